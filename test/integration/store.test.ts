// The catalog as several companions share it: two Catalog objects on one database (two connections, or
// two pools on PostgreSQL) race for the same rows. Runs on SQLite, and again on PostgreSQL in `npm test`'s
// PostgreSQL pass (DC_TEST_PG_URL): the same assertions hold on both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, MIGRATIONS } from '../../src/recordings';
import { BACKEND, catalogLocation } from '../support/pg';

let dir = '';
let location = '';
const open: Catalog[] = [];
const catalog = async () => {
  const c = await Catalog.open(location);
  open.push(c);
  return c;
};
/**
 * Two companions: on PostgreSQL two pools; on SQLite (one companion per catalog file by design) one Catalog
 * that two flows use at once, as the outbox, the recorder and the portal of one process do. Two SQLite
 * connections in one process would block each other's event loop in SQLite's busy wait; across processes
 * that case is test/unit/catalog-migrate-race.test.ts's.
 */
const two = async (): Promise<[Catalog, Catalog]> => {
  const a = await catalog();
  return [a, BACKEND === 'postgres' ? await catalog() : a];
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dc-store-'));
  location = await catalogLocation(dir);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function recordings(c: Catalog, n: number, now = Date.now()): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.addRecording(
      {
        uniqueid: `17330.${i}`,
        ani: '2125550100',
        dnis: '4175551234',
        durationMs: 1000,
        path: `r${i}.wav`,
        format: 'wav',
        sizeBytes: 100,
        sha256: 'a'.repeat(64),
        source: 'ari',
        node: i % 2 ? 'pbx2' : 'pbx1',
      },
      [{ route: 'crm', kind: 'webhook', target: 'http://127.0.0.1:9/x' }],
      now,
    );
    ids.push(r.id);
  }
  return ids;
}

// SQLite: across processes in test/unit/catalog-migrate-race.test.ts.
if (BACKEND === 'postgres')
  test('[postgres] four companions opening a new catalog at once: each migration applied once, all start', async () => {
    const cs = await Promise.all([catalog(), catalog(), catalog(), catalog()]);
    expect(cs).toHaveLength(4);
    const rows = await cs[0]!.db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

test(`[${BACKEND}] two companions claiming from one outbox at once never take the same delivery`, async () => {
  const [a, b] = await two();
  await recordings(a, 120, 1000);
  const taken = new Map<number, string>();
  const claimer = async (c: Catalog, who: string) => {
    for (;;) {
      const got = await c.claimDue(7, 60_000, 2000);
      // Nothing returned can also mean every due row is locked by another claim in flight (SKIP LOCKED): done
      // only when nothing is pending any more.
      if (!got.length) {
        if ((await c.counts()).pending === 0) return;
        continue;
      }
      for (const d of got) {
        expect([d.id, taken.get(d.id)]).toEqual([d.id, undefined]);
        taken.set(d.id, who);
      }
    }
  };
  await Promise.all([claimer(a, 'a'), claimer(b, 'b'), claimer(a, 'a2'), claimer(b, 'b2')]);
  expect(taken.size).toBe(120);
  expect((await a.counts()).sending).toBe(120);
  // Both companions did some of the work (neither waited for the other to finish everything).
  expect(new Set(taken.values()).size).toBeGreaterThan(1);
});

test(`[${BACKEND}] a companion that stalls past its lease: another takes the delivery over, the late outcome is history only`, async () => {
  const [a, b] = await two();
  await recordings(a, 1, 1000);
  const [mine] = await a.claimDue(1, 500, 2000);
  expect(await b.claimDue(1, 500, 2400)).toEqual([]); // lease still held
  const [theirs] = await b.claimDue(1, 500, 2600); // expired: taken over
  expect(theirs!.id).toBe(mine!.id);
  expect(theirs!.attempts).toBe(2);
  expect(await b.finishAttempt(theirs!, { outcome: 'delivered', httpStatus: 200, durationMs: 5 }, 2700)).toBe(true);
  // The stalled one comes back with a failure: it must not turn the delivered row back into a retry.
  expect(await a.finishAttempt(mine!, { outcome: 'retry', error: 'timeout', durationMs: 900, retryAt: 9000 }, 2800)).toBe(false);
  const d = (await a.getDelivery(mine!.id))!;
  expect(d.status).toBe('delivered');
  const attempts = await a.attemptsOf(d.id);
  expect(attempts.map((x) => x.outcome)).toEqual(['delivered', 'retry']);
  expect(attempts[1]!.error).toMatch(/lease lost/);
});

test(`[${BACKEND}] two companions completing the same written-ahead call at once: one row, its deliveries queued once`, async () => {
  const [a, b] = await two();
  const call = { uniqueid: 'pbx1-1733.9', ani: '2125550100', dnis: '4175551234', path: 'x.wav', source: 'ari' as const, node: 'pbx1' };
  await a.beginRecording(call);
  const done = {
    ...call,
    durationMs: 1500,
    format: 'wav',
    sizeBytes: 200,
    sha256: 'b'.repeat(64),
    cpaResult: 'LV',
  };
  const route = [{ route: 'crm', kind: 'webhook' as const, target: 'http://127.0.0.1:9/x' }];
  const [ra, rb] = await Promise.all([a.addRecording(done, route), b.addRecording(done, route)]);
  expect(ra.id).toBe(rb.id);
  expect((await a.listRecordings({})).length).toBe(1);
  expect((await a.deliveriesOf(ra.id)).length).toBe(1);
  expect(ra.state).toBe('complete');
});

test(`[${BACKEND}] each companion sweeps and retains only its own files; deliveries only of files it can read`, async () => {
  const a = await catalog();
  const ids = await recordings(a, 4, 1000); // pbx1, pbx2, pbx1, pbx2
  await a.beginRecording({ uniqueid: 'open.1', ani: '1', dnis: '2', path: 'o1.wav', source: 'ari', node: 'pbx1' });
  await a.beginRecording({ uniqueid: 'open.2', ani: '1', dnis: '2', path: 'o2.wav', source: 'ari', node: 'pbx2' });
  expect((await a.openRecordings(100, 'pbx1')).map((r) => r.uniqueid)).toEqual(['open.1']);
  expect((await a.openRecordings()).length).toBe(2);
  const claimed = await a.claimDue(10, 60_000, 2000, 'pbx2');
  expect(claimed.map((d) => d.recordingId).sort()).toEqual([ids[1], ids[3]].sort());
  expect((await a.recordingOfCall('17330.1', 'pbx1')) ?? null).toBeNull();
  expect((await a.recordingOfCall('17330.1', 'pbx2'))?.id).toBe(ids[1]);
});

test(`[${BACKEND}] two admins taking each other's admin role at once on two companions: one of them stays admin`, async () => {
  const [a, b] = await two();
  await a.users.add('alice', 'a long password 1', { role: 'admin' });
  await a.users.add('bob', 'a long password 2', { role: 'admin' });
  await Promise.allSettled([
    a.users.set('alice', { role: 'agent' }),
    b.users.set('bob', { role: 'agent' }),
    a.users.setDisabled('bob', true),
    b.users.setDisabled('alice', true),
  ]);
  const admins = (await a.users.list()).filter((u) => u.role === 'admin' && !u.disabled);
  expect(admins.length).toBe(1);
});

test(`[${BACKEND}] search, sessions, audit, outages and CPA configurations round-trip`, async () => {
  const c = await catalog();
  const ids = await recordings(c, 5, Date.parse('2026-11-30T10:00:00Z'));
  const page1 = await c.listRecordings({ limit: 2 });
  const page2 = await c.listRecordings({ limit: 2, after: { key: page1[1]!.createdAt, id: page1[1]!.id } });
  expect(new Set([...page1, ...page2].map((r) => r.id)).size).toBe(4);
  expect(ids).toEqual(expect.arrayContaining([...page1, ...page2].map((r) => r.id)));
  expect((await c.listRecordings({ extensions: [] })).length).toBe(0);
  expect((await c.listRecordings({ extensions: ['2125550100'] })).length).toBe(5);
  expect(await c.deliveryStateCounts()).toEqual({ pending: 5, failing: 0, dead: 0 });
  await c.users.add('root', 'a long password', { role: 'admin' });
  const s = await c.sessions.create('root', '127.0.0.1', 1000);
  expect((await c.sessions.resolve(s.id, { idleMs: 10_000, absoluteMs: 100_000 }, 2000))?.username).toBe('root');
  await c.audit.record({ actor: 'root', action: 'login', remote: '127.0.0.1' });
  expect((await c.audit.list({ actor: 'root' })).map((e) => e.action)).toEqual(['login']);
  const o = await c.outages.open('ari 127.0.0.1:8088', 'ari', new Date(1000), 'ECONNREFUSED', 'pbx1');
  expect(o.instance).toBe('pbx1');
  expect((await c.outages.ongoing('pbx2')).length).toBe(0);
  expect((await c.outages.ongoing('pbx1')).map((x) => x.id)).toEqual([o.id]);
  expect((await c.outages.close(o.id, new Date(61_000)))?.durationMs).toBe(60_000);
  expect(await c.outages.countByTarget()).toEqual([{ target: 'ari 127.0.0.1:8088', n: 1 }]);
  await c.cpaConfigs.set('acme/x', { params: { maxtime: 2000 }, log_voice: false, log_rtp_history: false });
  expect((await c.cpaConfigs.get('acme/x'))?.params).toEqual({ maxtime: 2000 });
});
