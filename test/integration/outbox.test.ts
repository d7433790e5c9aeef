// The delivery outbox against a real HTTP receiver on loopback and real ffmpeg: retries, backoff,
// Retry-After, dead letters, exactly-once as an idempotent receiver sees it.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, registerRecording } from '../../src/recordings';
import { OutboxWorker, webhookHandler } from '../../src/transport';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { WebhookReceiver } from '../support/receivers';
import { decodedSeconds } from '../support/audio';
import { waitFor } from '../support/sandbox';
import { catalogLocation } from '../support/pg';

const SECRET = 'test-webhook-secret-0123456789';
const log = createLogger((process.env.DC_TEST_LOG as 'info') ?? 'silent');

async function setup(recordings: number, opts: { maxAgeMs?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'dc-outbox-'));
  mkdirSync(join(root, '2026/11/23'), { recursive: true });
  const catalog = await Catalog.open(await catalogLocation(root));
  const rx = new WebhookReceiver(SECRET);
  await rx.listen();
  const routes = [{ name: 'crm', kind: 'webhook' as const, target: rx.url }];
  for (let i = 0; i < recordings; i++) {
    const file = join(root, '2026/11/23', `call-${i}.wav`);
    writeFileSync(file, encodeWav(new Signal().speech(3000).silence(1000).noise(-50).pcm(), 8000));
    await registerRecording(
      { catalog, root, asteriskDir: '/var/spool/asterisk/monitor', routes, log },
      {
        uniqueid: `u${i}`,
        ani: '2125550100',
        dnis: `41755510${String(i).padStart(2, '0')}`,
        file,
        source: 'upload',
        complete: { durationMs: 4000, format: 'wav' },
      },
    );
  }
  const worker = new OutboxWorker({
    catalog,
    root,
    handlers: { webhook: webhookHandler({ secret: SECRET }) },
    format: 'mp3',
    log,
    pollMs: 50,
    baseBackoffMs: 100,
    maxBackoffMs: 400,
    concurrency: 4,
    ...opts,
  });
  return { root, catalog, rx, worker };
}

test('receiver down (refused), then 503s, then up: each recording delivered exactly once, attempts recorded', async () => {
  const { catalog, rx, worker } = await setup(5);
  const port = rx.port;
  await rx.close(); // connection refused
  worker.start();
  await waitFor('refused attempts', async () => (await catalog.listDeliveries()).every((d) => d.attempts >= 2), 10_000, 50);
  await rx.listen(port);
  rx.respond = (n) => (n <= 8 ? { status: 503 } : { status: 200 });
  await waitFor('all delivered', async () => (await catalog.counts()).delivered === 5, 20_000, 50);
  await worker.stop();
  expect(rx.delivered.size).toBe(5);
  expect(await catalog.counts()).toEqual({ pending: 0, sending: 0, delivered: 5, dead: 0 });
  for (const hit of rx.hits) {
    expect(hit.signatureValid).toBe(true);
    expect(hit.userAgent).toMatch(/^dialplan-companion\//);
  }
  // every recording's key is the same across its attempts
  const keys = new Set(rx.hits.map((h) => h.idempotencyKey));
  expect(keys.size).toBe(5);
  const d = (await catalog.listDeliveries())[0]!;
  const attempts = await catalog.attemptsOf(d.id);
  expect(attempts.at(-1)!.outcome).toBe('delivered');
  expect(attempts.some((a) => a.error?.startsWith('network: ECONNREFUSED'))).toBe(true);
  const hit = rx.delivered.get(`${d.recordingId}:crm`)!;
  expect(hit.metadata).toMatchObject({ id: d.recordingId, ani: '2125550100' });
  expect(hit.audioType).toBe('audio/mpeg');
  expect(decodedSeconds(hit.audio, 'mp3')).toBeCloseTo(4, 0);
  await rx.close();
  await catalog.close();
}, 60_000);

test('a 4xx other than 408/429 is a dead letter at once, with the reason', async () => {
  const { catalog, rx, worker } = await setup(1);
  rx.respond = () => ({ status: 422 });
  worker.start();
  await waitFor('dead', async () => (await catalog.counts()).dead === 1, 10_000, 50);
  await worker.stop();
  const [d] = await catalog.listDeliveries('dead');
  expect(d!.attempts).toBe(1);
  expect(d!.lastError).toMatch(/^HTTP 422/);
  // the CLI's retry puts it back; a receiver that now accepts gets it
  rx.respond = () => ({ status: 200 });
  expect(await catalog.retryDelivery(d!.id)).toBe(true);
  worker.start();
  await waitFor('delivered after retry', async () => (await catalog.counts()).delivered === 1, 10_000, 50);
  await worker.stop();
  await rx.close();
  await catalog.close();
}, 30_000);

test('429 with Retry-After is honoured; retries stop at the configured age (dead letter)', async () => {
  const { catalog, rx, worker } = await setup(1, { maxAgeMs: 1500 });
  rx.respond = () => ({ status: 429, headers: { 'retry-after': '1' } });
  const t0 = Date.now();
  worker.start();
  await waitFor('dead after max age', async () => (await catalog.counts()).dead === 1, 15_000, 50);
  await worker.stop();
  const times = rx.hits.length;
  expect(times).toBeGreaterThanOrEqual(2);
  expect(times).toBeLessThanOrEqual(3); // 1 s apart (Retry-After), not every 100-400 ms
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  expect((await catalog.listDeliveries('dead'))[0]!.lastError).toMatch(/^gave up after \d attempts: HTTP 429/);
  await rx.close();
  await catalog.close();
}, 30_000);
