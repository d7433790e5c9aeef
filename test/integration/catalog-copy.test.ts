// A single companion's SQLite catalog moved into PostgreSQL with `catalog copy`: every table with its keys,
// logins and sessions still valid, unnamed recordings given the instance, identities continuing after the copy,
// and a second copy into the now full database refused. Real PostgreSQL (Debian's, temp dir).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../src/recordings';
import { LoginThrottle } from '../../src/portal/login-throttle';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const PASSWORD = 'correct horse battery';
let pg: TempPostgres;
const dir = mkdtempSync(join(tmpdir(), 'dc-catalog-copy-'));

beforeAll(async () => {
  pg = await startTempPostgres();
}, 60_000);
afterAll(() => {
  pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (i: number) => ({
  uniqueid: `1733.${i}`,
  ani: '2125550100',
  dnis: `41755500${i}`,
  durationMs: 1000 + i,
  path: `2026/12/01/r${i}.wav`,
  format: 'wav',
  sizeBytes: 100 + i,
  sha256: String(i).repeat(64).slice(0, 64),
  source: 'ari' as const,
  cpaResult: 'LV',
  cpaEvents: [{ result: 'LV', at_ms: 900 + i, decision: true }],
});

test('catalog copy: SQLite into an empty PostgreSQL, everything kept; a second copy refused', async () => {
  const file = join(dir, 'catalog.sqlite');
  const src = await Catalog.open(file);
  for (let i = 0; i < 3; i++) await src.addRecording(rec(i), [{ route: 'crm', kind: 'webhook', target: 'http://127.0.0.1:9/x' }]);
  await src.beginRecording({ uniqueid: '1733.9', ani: '1', dnis: '2', path: '2026/12/01/open.wav', source: 'ari' });
  const [d] = await src.claimDue(1, 60_000);
  await src.finishAttempt(d!, { outcome: 'retry', httpStatus: 503, error: 'HTTP 503', durationMs: 12, retryAt: Date.now() + 1000 });
  await src.users.add('root', PASSWORD, { role: 'admin' });
  await src.users.add('alice', PASSWORD, { role: 'agent', extensions: ['2001'] });
  const session = await src.sessions.create('root', '127.0.0.1');
  await src.audit.record({ actor: 'root', action: 'login', remote: '127.0.0.1' });
  const outage = await src.outages.open('ari 127.0.0.1:8088', 'ari', new Date(1000), 'ECONNREFUSED');
  await src.cpaConfigs.set('acme/x', { params: { maxtime: 2000 }, log_voice: false, log_rtp_history: false });
  const ticket = await new LoginThrottle(src.loginCounts).admit('bob', '10.0.0.1');
  if (ticket.ok) await ticket.failed();
  const before = {
    recordings: await src.listRecordings({ limit: 100, state: undefined }),
    open: await src.openRecordings(),
    deliveries: await src.listDeliveries(undefined, 100),
    attempts: await src.attemptsOf(d!.id),
    audit: await src.audit.list(),
    outages: await src.outages.list(),
  };
  await src.close();

  const urlFile = join(dir, 'target-url');
  writeFileSync(urlFile, pg.url, { mode: 0o600 });
  const copy = () =>
    spawnSync('node', [CLI, 'catalog', 'copy', '--to-file', urlFile], {
      env: { ...process.env, DC_CATALOG_FILE: file, DC_INSTANCE: 'pbx1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const r = copy();
  expect([r.status, r.stderr]).toEqual([0, '']);
  expect(r.stdout).toMatch(/recordings\s+4\n/);
  expect(r.stdout).toMatch(/deliveries\s+3\n/);
  expect(r.stdout).not.toContain(new URL(pg.url).password);

  const to = await Catalog.open(pg.url);
  try {
    const named = (x: { node: string | null }) => ({ ...x, node: x.node ?? 'pbx1' });
    expect(await to.listRecordings({ limit: 100 })).toEqual(before.recordings.map(named));
    expect(await to.openRecordings()).toEqual(before.open.map(named));
    expect(await to.listDeliveries(undefined, 100)).toEqual(before.deliveries);
    expect(await to.attemptsOf(d!.id)).toEqual(before.attempts);
    expect(await to.audit.list()).toEqual(before.audit);
    expect(await to.outages.list()).toEqual(before.outages);
    expect((await to.outages.ongoing()).map((o) => o.id)).toEqual([outage.id]);
    // Logins and sessions carry over: the same password, the same cookie.
    expect(await to.users.check('root', PASSWORD)).toMatchObject({ role: 'admin' });
    expect(await to.users.get('alice')).toMatchObject({ role: 'agent', extensions: ['2001'] });
    expect((await to.sessions.resolve(session.id, { idleMs: 3600_000, absoluteMs: 3600_000 }))?.username).toBe('root');
    expect((await to.cpaConfigs.get('acme/x'))?.params).toEqual({ maxtime: 2000 });
    expect(Number((await to.db.get<{ n: number }>('SELECT COUNT(*) n FROM login_counts'))?.n)).toBe(3);
    // The identities go on after the copied keys: new deliveries, attempts, audit entries and outages insert.
    const next = await to.addRecording(rec(7), [{ route: 'crm', kind: 'webhook', target: 'http://127.0.0.1:9/x' }]);
    expect((await to.deliveriesOf(next.id))[0]!.id).toBeGreaterThan(Math.max(...before.deliveries.map((x) => x.id)));
    await to.audit.record({ actor: 'root', action: 'logout' });
    expect((await to.outages.open('smtp 127.0.0.1:25', 'smtp', new Date(), 'refused')).id).toBeGreaterThan(outage.id);
  } finally {
    await to.close();
  }

  const again = copy();
  expect(again.status).toBe(1);
  expect(again.stderr).toMatch(/the target catalog is not empty \(5 rows in recordings\)/);
}, 120_000);
