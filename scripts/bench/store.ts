// npm run bench:store -- [deliveries] [recordings]
// The catalog on its two backends, measured as several companions use it:
// 1) The outbox: N pending deliveries taken by 1, 2 and 4 companion processes on one PostgreSQL (claims with
//    FOR UPDATE SKIP LOCKED and a lease), and by one on SQLite; each delivery is a real HTTP POST to a
//    loopback receiver and its outcome recorded. No audio conversion here (bench:transport measures ffmpeg):
//    this is the store's share of a delivery. Deliveries per second, and duplicates at the receiver.
// 2) The portal's searches over 1,000,000 recordings (with their deliveries) on each backend, as the portal
//    asks them of the catalog (listRecordings): p50 / p95 of 50 runs each.
// PostgreSQL is Debian's, started under a temp dir (scripts/lib/postgres.ts); SQLite is the embedded file.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, type RecordingQuery } from '../../src/recordings';
import { createDatabase, startTempPostgres } from '../lib/postgres';

const DELIVERIES = Number(process.argv[2] ?? 5000);
const ROWS = Number(process.argv[3] ?? 1_000_000);

const pct = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(q * a.length) - 1)]!;

// Rows generated inside the database (one statement per table): the registration path would take hours.
function fillSql(dialect: 'sqlite' | 'postgres', n: number, status: 'pending' | 'mixed'): string[] {
  if (dialect === 'postgres') {
    const ts = `(timestamp '2024-01-01' + i * interval '1 minute')`;
    const iso = `to_char(${ts}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    return [
      `INSERT INTO recordings (id, uniqueid, ani, dnis, started_at, answered_at, ended_at, duration_ms, path, format, size_bytes, sha256,
         cpa_result, cpa_events, source, created_at, state)
       SELECT 'rec_b' || lpad(to_hex(i), 8, '0'), i || '.1', (2000 + i % 300)::text, '41755' || lpad((i % 100000)::text, 5, '0'),
         ${iso}, ${iso}, ${iso}, 5000 + (i::bigint * 7919) % 600000, 'b/' || i || '.wav', 'wav', 96044, repeat('a', 64),
         (ARRAY['LV','AM','LV','LV','AM','FX','SIT',NULL])[i % 8 + 1], '[]', 'ari', ${iso}, 'complete'
       FROM generate_series(0, ${n - 1}) i`,
      `INSERT INTO deliveries (recording_id, route, kind, target, status, attempts, next_attempt_at, created_at)
       SELECT id, 'webhook', 'webhook', 'http://127.0.0.1:9/x', ${status === 'pending' ? `'pending'` : `CASE WHEN split_part(uniqueid, '.', 1)::int % 997 = 0 THEN 'dead' ELSE 'delivered' END`},
         ${status === 'pending' ? 0 : 1}, 0, created_at FROM recordings`,
      'ANALYZE',
    ];
  }
  const iso = `strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', '+' || i || ' minutes')`;
  return [
    `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})
     INSERT INTO recordings (id, uniqueid, ani, dnis, started_at, answered_at, ended_at, duration_ms, path, format, size_bytes, sha256,
       cpa_result, cpa_events, source, created_at, state)
     SELECT 'rec_b' || printf('%08x', i), i || '.1', CAST(2000 + i % 300 AS TEXT), '41755' || printf('%05d', i % 100000),
       ${iso}, ${iso}, ${iso}, 5000 + (i * 7919) % 600000, 'b/' || i || '.wav', 'wav', 96044, printf('%.64c', 'a'),
       CASE i % 8 WHEN 0 THEN 'LV' WHEN 1 THEN 'AM' WHEN 2 THEN 'LV' WHEN 3 THEN 'LV' WHEN 4 THEN 'AM' WHEN 5 THEN 'FX' WHEN 6 THEN 'SIT' END,
       '[]', 'ari', ${iso}, 'complete' FROM s`,
    `INSERT INTO deliveries (recording_id, route, kind, target, status, attempts, next_attempt_at, created_at)
     SELECT id, 'webhook', 'webhook', 'http://127.0.0.1:9/x', ${status === 'pending' ? `'pending'` : `CASE WHEN CAST(uniqueid AS INTEGER) % 997 = 0 THEN 'dead' ELSE 'delivered' END`},
       ${status === 'pending' ? 0 : 1}, 0, created_at FROM recordings`,
    'ANALYZE',
  ];
}

async function filled(location: string, n: number, status: 'pending' | 'mixed'): Promise<{ catalog: Catalog; sec: number }> {
  const catalog = await Catalog.open(location);
  const t0 = performance.now();
  for (const sql of fillSql(catalog.dialect, n, status)) await catalog.db.exec(sql);
  return { catalog, sec: (performance.now() - t0) / 1000 };
}

/** One companion's outbox loop, as its own process: claim, POST, record, until nothing is due. */
async function worker(location: string, url: string): Promise<void> {
  const catalog = await Catalog.open(location);
  let done = 0;
  for (let idle = 0; idle < 3;) {
    const batch = await catalog.claimDue(16, 60_000);
    if (!batch.length) {
      idle++;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    idle = 0;
    await Promise.all(
      batch.map(async (d) => {
        const t0 = performance.now();
        const r = await fetch(url, {
          method: 'POST',
          body: JSON.stringify({ id: d.recordingId }),
          headers: { 'idempotency-key': `${d.recordingId}:${d.route}` },
        });
        await r.arrayBuffer();
        await catalog.finishAttempt(d, { outcome: r.ok ? 'delivered' : 'retry', httpStatus: r.status, durationMs: performance.now() - t0 });
        done++;
      }),
    );
  }
  await catalog.close();
  process.stdout.write(`${done}\n`);
}

async function outboxRun(location: string, companions: number): Promise<{ perSec: number; hits: number; unique: number }> {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    seen.set(key, (seen.get(key) ?? 0) + 1);
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: companions },
      () =>
        new Promise<void>((resolve, reject) => {
          const c = spawn(process.execPath, [__filename, 'worker', location, url], { stdio: ['ignore', 'pipe', 'inherit'] });
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
        }),
    ),
  );
  const sec = (performance.now() - t0) / 1000;
  server.close();
  const hits = [...seen.values()].reduce((a, b) => a + b, 0);
  return { perSec: DELIVERIES / sec, hits, unique: seen.size };
}

const SEARCHES: [string, RecordingQuery][] = [
  ['first page (newest 50)', {}],
  ['by ANI', { ani: '2150' }],
  ['by CPA result + date range', { cpaResult: 'AM', since: '2024-06-01T00:00:00.000Z', until: '2024-07-01T00:00:00.000Z' }],
  ['length > 500 s, longest first', { minDurationMs: 500_000, sort: 'duration' }],
  ['dead deliveries', { delivery: 'dead' }],
  ['agent (2 extensions)', { extensions: ['2001', '2002'] }],
];

async function searchRun(catalog: Catalog): Promise<void> {
  const deep = (await catalog.listRecordings({ limit: 1, offset: 9_999 }))[0]!;
  const cases: [string, RecordingQuery][] = [...SEARCHES, ['page 201 (keyset)', { after: { key: deep.createdAt, id: deep.id } }]];
  for (const [name, q] of cases) {
    await catalog.listRecordings({ ...q, limit: 51 });
    const t: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await catalog.listRecordings({ ...q, limit: 51 });
      t.push(performance.now() - t0);
    }
    process.stdout.write(
      `    ${name.padEnd(32)} p50 ${pct(t, 0.5).toFixed(1).padStart(6)} ms   p95 ${pct(t, 0.95).toFixed(1).padStart(6)} ms\n`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'worker') return worker(process.argv[3]!, process.argv[4]!);
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-store-'));
  // Durable as a production server is (fsync and synchronous commit on): the figures include the flushes.
  const server = await startTempPostgres({ durable: true });
  try {
    process.stdout.write(
      `bench:store  PostgreSQL ${server.dir} (Debian's, fsync on), SQLite in ${dir}; ${DELIVERIES} deliveries per run\n`,
    );
    process.stdout.write('outbox: claim + HTTP POST to a loopback receiver + outcome, per companion process\n');
    const runs: [string, 'sqlite' | 'postgres', number][] = [
      ['SQLite, 1 companion', 'sqlite', 1],
      ['PostgreSQL, 1 companion', 'postgres', 1],
      ['PostgreSQL, 2 companions', 'postgres', 2],
      ['PostgreSQL, 4 companions', 'postgres', 4],
    ];
    for (const [name, backend, n] of runs) {
      const location = backend === 'sqlite' ? join(dir, `outbox-${n}.sqlite`) : await createDatabase(server.url, `outbox_${n}`);
      const { catalog } = await filled(location, DELIVERIES, 'pending');
      await catalog.close();
      const r = await outboxRun(location, n);
      process.stdout.write(
        `  ${name.padEnd(26)} ${r.perSec.toFixed(0).padStart(6)} deliveries/s   receiver: ${r.unique} keys, ${r.hits - r.unique} duplicates\n`,
      );
    }
    process.stdout.write(`portal searches over ${ROWS.toLocaleString('en')} recordings (+ a delivery each), 50 runs each\n`);
    for (const backend of ['sqlite', 'postgres'] as const) {
      const location = backend === 'sqlite' ? join(dir, 'search.sqlite') : await createDatabase(server.url, 'search');
      const { catalog, sec } = await filled(location, ROWS, 'mixed');
      process.stdout.write(`  ${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (filled in ${sec.toFixed(0)} s)\n`);
      await searchRun(catalog);
      await catalog.close();
    }
  } finally {
    server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
