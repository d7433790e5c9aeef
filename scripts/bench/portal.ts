// npm run bench:portal [-- ROWS]: the portal over a big catalog. Fills a temporary catalog with ROWS recordings
// (default 1,000,000; a realistic mix of numbers, lengths, CPA results and deliveries, each with a call
// picture), then measures over loopback HTTP, logged in as an admin and as an agent: the search (first page,
// filters, sorted by length, a page deep into the keyset, an agent's extensions), a recording's page with its
// picture, and a download's throughput. Prints p50/p95 per case. Nothing outside a temp dir is touched.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { portalApp } from '../../src/portal/app';
import { Catalog } from '../../src/recordings';
import { portalLogin } from '../lib/portal-client';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const PASSWORD = 'a long enough password';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function time(n: number, f: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  return { p50: pct(t, 50), p95: pct(t, 95) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-portal-'));
  const file = join(dir, 'catalog.sqlite');
  try {
    const catalog = await Catalog.open(file); // creates the schema
    await catalog.close();
    // Bulk fill straight into SQLite (the registration path would take hours for a million rows).
    const t0 = Date.now();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const picture = JSON.stringify({ v: 1, binMs: 120, levels: [Array.from({ length: 500 }, (_, i) => -60 + ((i * 7) % 50))] });
    const ins = db.prepare(
      `INSERT INTO recordings (id, uniqueid, ani, dnis, started_at, answered_at, ended_at, duration_ms, path, format, size_bytes, sha256,
         cpa_result, cpa_events, source, created_at, state, picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'wav', ?, ?, ?, ?, 'ari', ?, 'complete', ?)`,
    );
    const del = db.prepare(
      `INSERT INTO deliveries (recording_id, route, kind, target, status, attempts, next_attempt_at, created_at) VALUES (?, 'webhook', 'webhook', 'http://127.0.0.1:9/x', ?, 1, 0, ?)`,
    );
    const CPA = ['LV', 'AM', 'LV', 'LV', 'AM', 'FX', 'SIT', null];
    const start = Date.parse('2024-01-01T00:00:00Z');
    const fill = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const at = new Date(start + i * 60_000).toISOString();
        const id = `rec_b${i.toString(36).padStart(8, '0')}`;
        const ani = String(2000 + (i % 300));
        const cpa = CPA[i % CPA.length]!;
        ins.run(
          id,
          `${i}.1`,
          ani,
          `41755${String(i % 100000).padStart(5, '0')}`,
          at,
          at,
          at,
          5000 + ((i * 7919) % 600_000),
          `b/${id}.wav`,
          96044,
          'a'.repeat(64),
          cpa,
          cpa ? `[{"result":"${cpa}","at_ms":2100,"decision":true}]` : '[]',
          at,
          picture,
        );
        del.run(id, i % 997 === 0 ? 'dead' : 'delivered', at);
      }
    });
    for (let i = 0; i < ROWS; i += 50_000) fill(i, Math.min(ROWS, i + 50_000));
    db.exec('ANALYZE');
    db.close();
    const fillSec = (Date.now() - t0) / 1000;

    const c = await Catalog.open(file);
    await c.users.add('root', PASSWORD, { role: 'admin' });
    await c.users.add('alice', PASSWORD, { role: 'agent', extensions: ['2001', '2002'] });
    // One real file for the recording page and the download: 10 minutes of 8 kHz audio (9.6 MB).
    const wav = encodeWav(
      Int16Array.from({ length: 8000 * 600 }, (_, i) => Math.round(Math.sin(i / 5) * 3000)),
      8000,
    );
    writeFileSync(join(dir, 'big.wav'), wav);
    const big = await c.addRecording(
      {
        uniqueid: 'bench.big',
        ani: '2001',
        dnis: '4175551234',
        durationMs: 600_000,
        path: 'big.wav',
        format: 'wav',
        sizeBytes: wav.length,
        sha256: createHash('sha256').update(wav).digest('hex'),
        source: 'upload',
        cpaEvents: [{ result: 'LV', at_ms: 2100, decision: true }],
        picture: JSON.parse(picture) as never,
      },
      [],
    );
    const app = portalApp({
      host: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
      upload: { root: dir, tokens: [], maxBytes: 1024, register: () => Promise.reject(new Error('no')) },
      downloads: { catalog: c, root: dir, linkSecret: 'l'.repeat(32) },
      session: { secret: 's'.repeat(32), idleMs: 3600_000, absoluteMs: 3600_000, secure: false, origins: [], trustProxy: [] },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = await portalLogin(base, 'root', PASSWORD);
    const agent = await portalLogin(base, 'alice', PASSWORD);
    const get = async (path: string, cookie: string) => {
      const r = await fetch(`${base}${path}`, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
      return r.text();
    };
    // a page deep into the list: follow 'older' 200 times (10,000 rows in), then time that page
    let deep = '/recordings';
    for (let i = 0; i < 200; i++) deep = /href="([^"]*after=[^"]+)"/.exec(await get(deep, admin.cookie))![1]!.replace(/&amp;/g, '&');
    const cases: [string, string, string][] = [
      ['search, first page (newest 50)', '/recordings', admin.cookie],
      ['search by ANI', '/recordings?ani=2150', admin.cookie],
      ['search by CPA result + date range', '/recordings?cpa=AM&from=2024-06-01&to=2024-06-30', admin.cookie],
      ['search by length > 500 s, longest first', '/recordings?min=500&sort=duration', admin.cookie],
      ['search, dead deliveries', '/recordings?delivery=dead', admin.cookie],
      ['search, page 201 (keyset)', deep, admin.cookie],
      ['agent (2 extensions), first page', '/recordings', agent.cookie],
      ['recording page with its picture', `/recordings/${big.id}`, admin.cookie],
    ];
    process.stdout.write(`catalog: ${ROWS.toLocaleString('en')} recordings (+ deliveries), filled in ${fillSec.toFixed(0)} s\n`);
    for (const [name, path, cookie] of cases) {
      await get(path, cookie); // warm
      const r = await time(50, () => get(path, cookie));
      process.stdout.write(`${name.padEnd(44)} p50 ${r.p50.toFixed(1).padStart(6)} ms   p95 ${r.p95.toFixed(1).padStart(6)} ms\n`);
    }
    const t1 = performance.now();
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${base}/recordings/${big.id}/download`, { headers: { cookie: admin.cookie } });
      bytes += (await r.arrayBuffer()).byteLength;
    }
    const sec = (performance.now() - t1) / 1000;
    process.stdout.write(
      `download over loopback: ${((bytes / sec) * 8e-6).toFixed(0)} Mbit/s (${(bytes / 1e6).toFixed(0)} MB in ${sec.toFixed(2)} s)\n`,
    );
    await new Promise((r) => server.close(r));
    await c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
