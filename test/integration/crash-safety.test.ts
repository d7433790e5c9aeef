// kill -9 of the real service (dialplan-companion serve) at random moments during 100 deliveries, then a
// restart each time: every recording is delivered, none lost; a duplicate only ever repeats a key.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, registerRecording } from '../../src/recordings';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { WebhookReceiver } from '../support/receivers';
import { waitFor } from '../support/sandbox';
import { catalogEnv, catalogLocation } from '../support/pg';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const SECRET = 'crash-test-secret-0123456789abcd';

test('100 deliveries survive kill -9 at random moments: 100 delivered, 0 lost', async () => {
  const rx = new WebhookReceiver(SECRET);
  await rx.listen();
  try {
    await crashAndCount(rx);
  } finally {
    await rx.close();
  }
}, 120_000);

async function crashAndCount(rx: WebhookReceiver): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'dc-crash-'));
  const catalogFile = await catalogLocation(root);
  // The receiver is a little slow, so kills land while requests are in flight.
  rx.delayMs = 150;
  const catalog = await Catalog.open(catalogFile);
  const pcm = encodeWav(new Signal().speech(1500).noise(-50).pcm(), 8000);
  mkdirSync(join(root, 'calls'));
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const file = join(root, 'calls', `c${i}.wav`);
    writeFileSync(file, pcm);
    const rec = await registerRecording(
      {
        catalog,
        root,
        asteriskDir: '/var/spool/asterisk/monitor',
        routes: [{ name: 'crm', kind: 'webhook', target: rx.url }],
        log: createLogger('silent'),
      },
      { uniqueid: `c${i}`, ani: '2125550100', dnis: '4175551234', file, source: 'upload', complete: { durationMs: 1500, format: 'wav' } },
    );
    ids.push(rec.id);
  }
  await catalog.close();

  const env = {
    ...process.env,
    ...catalogEnv(catalogFile, root),
    DC_RECORDINGS_LOCAL_DIR: root,
    DC_WEBHOOK_URL: rx.url,
    DC_WEBHOOK_SECRET: SECRET,
    DC_ARI_URL: 'http://127.0.0.1:1', // no Asterisk needed: the outbox works on its own
    DC_PORTAL_PORT: '0',
    DC_AGI_PORT: '0',
    DC_LOG_LEVEL: 'warn',
    DC_DELIVERY_POLL_MS: '50',
    DC_DELIVERY_LEASE_MS: '1500',
    DC_DELIVERY_CONCURRENCY: '4',
  };
  const start = (): ChildProcess => spawn('node', [CLI, 'serve'], { env, stdio: 'ignore' });
  let seed = 77;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let kills = 0;
  const tk = Date.now();
  for (; kills < 5 && rx.delivered.size < 100; kills++) {
    const child = start();
    await new Promise((r) => setTimeout(r, 600 + rand() * 1200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  if (process.env.DC_TEST_TIMING) console.log('kill loop', Date.now() - tk, 'ms');
  const last = start();
  try {
    const t0 = Date.now();
    // Done means the catalog agrees, not just the receiver: deliveries a killed process left 'sending' are
    // taken again only when their lease (1.5 s) runs out.
    const watch = await Catalog.open(catalogFile);
    try {
      await waitFor('100 delivered', async () => rx.delivered.size === 100 && (await watch.counts()).delivered === 100, 60_000, 100);
    } finally {
      await watch.close();
    }
    if (process.env.DC_TEST_TIMING) console.log('after restart', Date.now() - t0, 'ms, kills', kills, 'hits', rx.hits.length);
  } finally {
    const t1 = Date.now();
    last.kill('SIGTERM');
    await new Promise((r) => last.once('exit', r));
    if (process.env.DC_TEST_TIMING) console.log('shutdown', Date.now() - t1, 'ms');
  }
  expect(kills).toBeGreaterThanOrEqual(2);
  expect([...rx.delivered.keys()].sort()).toEqual(ids.map((id) => `${id}:crm`).sort());
  // duplicates are possible (a kill between the receiver's 200 and our bookkeeping), always with a known key
  expect(rx.hits.every((h) => ids.includes(h.idempotencyKey.replace(/:crm$/, '')) && h.signatureValid)).toBe(true);
  const after = await Catalog.open(catalogFile);
  expect(await after.counts()).toMatchObject({ delivered: 100, dead: 0, pending: 0 });
  await after.close();
  // Conversions the kills interrupted left temporary files; the restarted service cleared them, and its
  // own were removed after each delivery.
  expect(readdirSync(join(root, 'convert-tmp'))).toEqual([]);
  rmSync(root, { recursive: true, force: true });
}
