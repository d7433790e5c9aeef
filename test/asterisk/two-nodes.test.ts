// Past one machine, end to end: two sandbox Asterisks (node 2 is an overlay with its own ports, spool and
// systemname), two companions, one PostgreSQL, one bucket. 100 calls split over both nodes; node 2's
// companion is killed with kill -9 while half of its calls are up and restarted: every recording is
// catalogued once, archived (the bucket's own copy matches the catalog's SHA-256), delivered to a real
// webhook receiver (duplicates only ever as the same Idempotency-Key), and either portal lists all 100.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Catalog, type Recording } from '../../src/recordings';
import { ChildService } from '../../scripts/lib/child-service';
import { runSipp, type SippResult } from '../../scripts/lib/sipp-caller';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres';
import { startS3, type TestS3 } from '../../scripts/lib/s3-server';
import { portalLogin } from '../support/portal-client';
import { WebhookReceiver } from '../support/receivers';
import { ariGet, ensureSandbox, REPO, waitFor } from '../support/sandbox';

const run = promisify(execFile);
const SECRET = 'two-nodes-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery';
const ANI = { pbx1: '3125551001', pbx2: '3125552002' };
const NODE2_ARI = 'http://127.0.0.1:8090';
let pg: TempPostgres;
let s3: TestS3;
let rx: WebhookReceiver;
let dir: string;
let spool1 = '';
let spool2 = '';
const companions: ChildService[] = [];

const node2 = (cmd: string) =>
  run('bash', [join(REPO, 'scripts/sandbox.sh'), cmd], { env: { ...process.env, DC_SANDBOX_NODE: '2' }, timeout: 120_000 });

beforeAll(async () => {
  const root1 = await ensureSandbox();
  await node2('start');
  const root2 = (await node2('path')).stdout.trim();
  spool1 = join(root1, 'var/spool/asterisk/monitor');
  spool2 = join(root2, 'var/spool/asterisk/monitor');
  // Node 2's spool is its own: start it empty, so its companion's recovery sweep sees only this test's calls.
  for (const f of readdirSync(spool2)) rmSync(join(spool2, f), { recursive: true, force: true });
  pg = await startTempPostgres();
  s3 = await startS3();
  rx = new WebhookReceiver(SECRET);
  await rx.listen();
  dir = mkdtempSync(join(tmpdir(), 'dc-two-nodes-'));
}, 600_000);

afterAll(async () => {
  for (const c of companions) await c.kill('SIGKILL');
  await node2('stop').catch(() => undefined);
  await rx?.close();
  await s3?.destroy();
  pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function companion(node: 'pbx1' | 'pbx2'): ChildService {
  const n2 = node === 'pbx2';
  const c = new ChildService({
    DC_INSTANCE: node,
    DC_DATABASE_URL: pg.url,
    ...s3.env,
    DC_CATALOG_FILE: join(dir, node, 'catalog.sqlite'), // its directory holds this companion's work files
    DC_ARI_URL: n2 ? NODE2_ARI : 'http://127.0.0.1:8088',
    DC_AMI_PORT: n2 ? '5040' : '5038',
    DC_RECORDINGS_LOCAL_DIR: n2 ? spool2 : spool1,
    DC_WEBHOOK_URL: rx.url,
    DC_WEBHOOK_SECRET: SECRET,
    DC_PORTAL_PORT: '0',
    DC_AGI_ENABLED: 'false',
    DC_MONITOR_ENABLED: 'false',
    DC_ARI_RECONNECT_MIN_MS: '200',
    DC_ARI_RECONNECT_MAX_MS: '1000',
    DC_DELIVERY_POLL_MS: '200',
    DC_DELIVERY_LEASE_MS: '5000',
    DC_S3_POLL_MS: '200',
    // Node 1's spool is shared with every other sandbox test: only rows written ahead count there.
    DC_RECOVER_FILES: n2 ? 'true' : 'false',
    DC_RECOVER_EVERY_MS: '2000',
    DC_LOG_LEVEL: 'info',
  });
  companions.push(c);
  return c;
}

const sha = (b: Buffer | undefined) => b && createHash('sha256').update(b).digest('hex');
const portalOf = (c: ChildService) => String(c.logs.findLast((l) => l.msg === 'portal listening')?.url ?? '');
const bridgedOn = async (base: string) =>
  (await ariGet<{ id: string; channels: string[] }[]>('/bridges', base)).filter((b) => b.id.endsWith('-bridge') && b.channels.length === 2)
    .length;

test('two nodes, 100 calls, kill -9 of one companion half-way: 100 catalogued once, archived and verified, delivered, listed by either portal', async () => {
  const a = companion('pbx1');
  const b = companion('pbx2');
  await Promise.all([a.startConnected(30_000), b.startConnected(30_000)]);
  const calls = (node: 'pbx1' | 'pbx2', n: number, localPort: number, talkMs: number): Promise<SippResult> =>
    runSipp({
      dial: '*1234175551234',
      ani: ANI[node],
      talkMs,
      calls: n,
      concurrent: n,
      rate: 10,
      localPort,
      remote: node === 'pbx2' ? '127.0.0.1:5062' : undefined,
    });
  // Node 1: 50 calls throughout. Node 2: 25 calls, its companion killed while they are up, restarted, 25 more.
  const one = calls('pbx1', 50, 5820, 8000);
  const twoFirst = calls('pbx2', 25, 5880, 12_000);
  await waitFor('25 calls bridged on node 2', async () => (await bridgedOn(NODE2_ARI)) === 25, 40_000, 200);
  await b.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  await b.startConnected(30_000);
  const twoSecond = calls('pbx2', 25, 5900, 3000);
  for (const r of await Promise.all([one, twoFirst, twoSecond])) expect(r).toMatchObject({ failed: 0 });

  const cat = await Catalog.open(pg.url);
  try {
    const ours = async () => [
      ...(await cat.listRecordings({ ani: ANI.pbx1, limit: 1000 })),
      ...(await cat.listRecordings({ ani: ANI.pbx2, limit: 1000 })),
    ];
    let recs: Recording[] = [];
    await waitFor(
      '100 recordings catalogued, archived and delivered',
      async () => {
        recs = await ours();
        return (
          recs.length === 100 &&
          recs.every((r) => r.state === 'complete' && r.objectKey) &&
          recs.every((r) => rx.delivered.has(`${r.id}:webhook`))
        );
      },
      120_000,
      500,
    ).catch((e: Error) => {
      const open = recs.filter((r) => r.state !== 'complete').length;
      const unarchived = recs.filter((r) => !r.objectKey).length;
      const undelivered = recs.filter((r) => !rx.delivered.has(`${r.id}:webhook`)).length;
      const warn = [...a.logs, ...b.logs].filter((l) => (l.level as number) >= 40).map((l) => `${String(l.msg)} ${String(l.err ?? '')}`);
      throw new Error(
        `${e.message}: ${recs.length} rows, ${open} not complete, ${unarchived} not archived, ${undelivered} not delivered; ${warn.slice(0, 10).join(' | ')}`,
      );
    });
    expect(new Set(recs.map((r) => r.uniqueid)).size).toBe(100);
    expect(recs.filter((r) => r.ani === ANI.pbx1).every((r) => r.node === 'pbx1' && /^\d+\.\d+$/.test(r.uniqueid!))).toBe(true);
    expect(recs.filter((r) => r.ani === ANI.pbx2).every((r) => r.node === 'pbx2' && r.uniqueid!.startsWith('pbx2-'))).toBe(true);
    for (const r of recs) expect([r.id, sha(s3.stored(r.objectKey!))]).toEqual([r.id, r.sha256]);
    expect(b.logs.filter((l) => l.msg === 'call taken over after a restart').length).toBe(25);
    // Every hit at the receiver is one of these recordings' keys, signed: a duplicate is only ever the same key.
    const keys = new Set(recs.map((r) => `${r.id}:webhook`));
    expect(rx.hits.every((h) => h.signatureValid && keys.has(h.idempotencyKey))).toBe(true);

    await cat.users.add('root', PASSWORD, { role: 'admin' });
    for (const c of [a, b]) {
      const { cookie } = await portalLogin(portalOf(c), 'root', PASSWORD);
      for (const ani of Object.values(ANI)) {
        const html = await (await fetch(`${portalOf(c)}/recordings?ani=${ani}`, { headers: { cookie } })).text();
        expect([portalOf(c), ani, (html.match(/<tr data-id=/g) ?? []).length]).toEqual([portalOf(c), ani, 50]);
      }
    }
  } finally {
    await cat.close();
  }
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
}, 420_000);
