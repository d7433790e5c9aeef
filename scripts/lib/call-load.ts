// A bounded load of *123 calls through the sandbox Asterisk into a real `serve` process, and what came of
// them: catalogued, delivered, tap delay, CPA results, leftovers, CPU. Used by `npm run bench:calls` and,
// smaller, by the test suite.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog } from '../../src/recordings';
import { ariGet } from './sandbox-ari';
import { cpuSeconds } from './proc-cpu';
import { ChildService } from './child-service';
import { runSipp, type SippResult } from './sipp-caller';
import { waitFor } from './wait';

export interface CallLoadOptions {
  /** Calls in all: half reach a live person, half a machine with a beep. */
  calls: number;
  /** New calls per second (both halves together). */
  rate: number;
  talkMs: number;
  /** The sandbox chroot. */
  chroot: string;
  /** A CPU-heavy process beside the load (node spinning on one core). */
  loaded?: boolean;
  /** Extra environment for the service. */
  env?: Record<string, string>;
  /** How long to wait for the catalog and the deliveries after the last call. */
  settleMs?: number;
}

export interface CallLoadResult {
  calls: number;
  sipp: SippResult[];
  catalogued: number;
  /** Recordings of the load catalogued more than once (must be 0). */
  duplicates: number;
  delivered: number;
  /** Deliveries the receiver saw more than once (same key). */
  redelivered: number;
  /** ms from the answer to the tap's first audio, over calls that were tapped. */
  tapLagP50: number | undefined;
  tapLagP99: number | undefined;
  tapped: number;
  /** CPA results by expected outcome. */
  cpa: { live: Record<string, number>; machine: Record<string, number> };
  leftovers: { channels: number; bridges: number };
  /** Calls whose CPA decision was neither right nor unknown: what was heard, how late the tap was. */
  wrong: { uniqueid: string; expected: string; result: string; cause: string; tapLagMs: number | undefined; rtp: unknown }[];
  serviceAlive: boolean;
  nodeCpuPct: number;
  asteriskCpuPct: number;
  wallSec: number;
}

const LIVE_ANI = '3125550700';
const MACHINE_ANI = '3125550800';

const pct = (a: number[], q: number) =>
  a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(q * a.length) - 1)] : undefined;

export async function runCallLoad(o: CallLoadOptions): Promise<CallLoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-call-load-'));
  const keys = new Map<string, number>();
  const rx = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const k = String(req.headers['idempotency-key'] ?? '');
      keys.set(k, (keys.get(k) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  const svc = new ChildService({
    DC_CATALOG_FILE: join(dir, 'catalog.sqlite'),
    DC_RECORDINGS_LOCAL_DIR: join(o.chroot, 'var/spool/asterisk/monitor'),
    DC_WEBHOOK_URL: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/crm`,
    DC_WEBHOOK_SECRET: 'call-load-secret-0123456789abcdef',
    DC_PORTAL_PORT: '0',
    DC_AGI_PORT: '0',
    DC_MONITOR_ENABLED: 'false',
    DC_RECOVER_FILES: 'false',
    DC_DELIVERY_POLL_MS: '200',
    DC_DELIVERY_CONCURRENCY: '4',
    DC_LOG_LEVEL: 'info',
    ...o.env,
  });
  const burner = o.loaded
    ? spawn('node', ['-e', 'const end = Date.now() + 3600e3; while (Date.now() < end) {}'], { stdio: 'ignore' })
    : undefined;
  try {
    await svc.startConnected();
    const astPid = Number(readFileSync(join(o.chroot, 'run/asterisk/sandbox.pid'), 'utf8'));
    const cpu0 = { node: cpuSeconds(svc.pid!), ast: cpuSeconds(astPid), t: Date.now() };
    const half = Math.ceil(o.calls / 2);
    const common = { talkMs: o.talkMs, rate: o.rate / 2, timeoutSec: Math.ceil((o.calls / o.rate + o.talkMs / 1000) * 2 + 60) };
    const sipp = await Promise.all([
      runSipp({ ...common, dial: '*1234175551234', ani: LIVE_ANI, calls: half, concurrent: half, localPort: 5800 }),
      runSipp({ ...common, dial: '*1234175552000', ani: MACHINE_ANI, calls: o.calls - half, concurrent: o.calls - half, localPort: 5900 }),
    ]);
    const cpu1 = { node: cpuSeconds(svc.pid!), ast: cpuSeconds(astPid), t: Date.now() };
    // What Asterisk wrote is what must be catalogued: one row per call that reached the Stasis app.
    const ended = () => svc.logs.filter((l) => l.msg === 'call ended');
    const catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
    const ours = async () => [
      ...(await catalog.listRecordings({ ani: LIVE_ANI, limit: 1000 })),
      ...(await catalog.listRecordings({ ani: MACHINE_ANI, limit: 1000 })),
    ];
    await waitFor(
      'every ended call catalogued and delivered',
      async () => {
        const recs = await ours();
        return (
          recs.length >= ended().length &&
          (await catalog.openRecordings()).length === 0 &&
          recs.every((r) => r.state !== 'complete' || keys.has(`${r.id}:webhook`))
        );
      },
      o.settleMs ?? 120_000,
      500,
    ).catch(() => undefined);
    const recs = await ours();
    const lags = ended()
      .map((l) => l.tapLagMs)
      .filter((x): x is number => typeof x === 'number');
    const cpa = { live: {} as Record<string, number>, machine: {} as Record<string, number> };
    const lagOf = new Map(ended().map((l) => [String(l.uniqueid), l.tapLagMs as number | undefined]));
    const wrong: CallLoadResult['wrong'] = [];
    for (const r of recs) {
      const side = r.ani === LIVE_ANI ? cpa.live : cpa.machine;
      const k = r.cpaResult ?? 'none';
      side[k] = (side[k] ?? 0) + 1;
      const expected = r.ani === LIVE_ANI ? 'LV' : 'AM';
      if (k !== expected && k !== 'unknown') {
        const d = (r.cpaEvents as { decision?: boolean; cause?: string }[]).find((e) => e.decision);
        const rtp = svc.logs.find((l) => l.msg === 'CPA tap stopped' && l.uniqueid === r.uniqueid)?.rtp;
        wrong.push({
          uniqueid: String(r.uniqueid),
          expected,
          result: k,
          cause: d?.cause ?? '',
          tapLagMs: lagOf.get(String(r.uniqueid)),
          rtp,
        });
      }
    }
    await waitFor('Asterisk settled', async () => (await ariGet<unknown[]>('/channels')).length === 0, 20_000, 500).catch(() => undefined);
    const channels = (await ariGet<unknown[]>('/channels')).length;
    const bridges = (await ariGet<unknown[]>('/bridges')).length;
    const result: CallLoadResult = {
      calls: o.calls,
      sipp,
      catalogued: new Set(recs.map((r) => r.uniqueid)).size,
      duplicates: recs.length - new Set(recs.map((r) => r.uniqueid)).size,
      delivered: recs.filter((r) => keys.has(`${r.id}:webhook`)).length,
      redelivered: [...keys.values()].filter((n) => n > 1).length,
      tapLagP50: pct(lags, 0.5),
      tapLagP99: pct(lags, 0.99),
      tapped: lags.length,
      cpa,
      wrong,
      leftovers: { channels, bridges },
      serviceAlive: svc.alive,
      nodeCpuPct: Math.round(((cpu1.node - cpu0.node) * 100_000) / (cpu1.t - cpu0.t)),
      asteriskCpuPct: Math.round(((cpu1.ast - cpu0.ast) * 100_000) / (cpu1.t - cpu0.t)),
      wallSec: Math.round((cpu1.t - cpu0.t) / 1000),
    };
    await catalog.close();
    return result;
  } finally {
    burner?.kill('SIGKILL');
    await svc.kill('SIGTERM');
    rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
