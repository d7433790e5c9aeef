// Prometheus metrics (prom-client): the families an admin scrapes, named as the issue and the dashboard
// use them. Counters move where things happen; gauges are read from their owners at scrape time.
import type { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const P = 'dialplan_companion_';

/** What the gauges are read from when Prometheus scrapes. */
export interface MetricSources {
  activeCalls(): number;
  activeTaps(): number;
  rtp(): { packets: number; lost: number; malformed: number };
  deliveries(): Promise<Record<'pending' | 'sending' | 'delivered' | 'dead', number>>;
  targets(): { name: string; kind: string; up: boolean | undefined }[];
  outages(): Promise<{ target: string; n: number }[]>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly calls = new Counter({
    name: `${P}calls_total`,
    help: 'Calls that ended, by outcome (answered, busy, no_answer, rejected, congestion, caller_left, failed)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly cpaResults = new Counter({
    name: `${P}cpa_results_total`,
    help: 'CPA events on live calls, by result (LV, AM, BP, FX, SIT, unknown, ...)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly cpaDecision = new Histogram({
    name: `${P}cpa_decision_seconds`,
    help: "Time from the callee's answer to the CPA decision",
    buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30],
    registers: [this.registry],
  });
  readonly recordings = new Counter({
    name: `${P}recordings_total`,
    help: 'Recordings catalogued, by source (ari, agi, upload)',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly deliveryAttempts = new Counter({
    name: `${P}delivery_attempts_total`,
    help: 'Delivery attempts, by kind (webhook, email) and outcome (delivered, retry, dead)',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  readonly deliverySeconds = new Histogram({
    name: `${P}delivery_seconds`,
    help: 'Time from registration to delivered',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
    registers: [this.registry],
  });
  readonly agiSessions = new Counter({
    name: `${P}agi_sessions_total`,
    help: 'FastAGI connections, by script and outcome (ok, protocol_error, unknown_script, script_error, refused)',
    labelNames: ['script', 'outcome'],
    registers: [this.registry],
  });
  readonly uploads = new Counter({
    name: `${P}uploads_total`,
    help: 'POST /upload requests, by outcome (ok, bad_request, unauthorized, too_large, unsupported, busy, error)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor(src: MetricSources) {
    const r = [this.registry];
    new Gauge({ name: `${P}calls_active`, help: 'Calls in progress', registers: r, collect: gauge((g) => g.set(src.activeCalls())) });
    new Gauge({
      name: `${P}cpa_sessions_active`,
      help: 'CPA taps analysing now',
      registers: r,
      collect: gauge((g) => g.set(src.activeTaps())),
    });
    // RTP counters live in the receiver; exposed as counters whose value is read at scrape time.
    const rtp = (name: string, help: string, pick: (x: ReturnType<MetricSources['rtp']>) => number) =>
      new Counter({
        name: `${P}${name}`,
        help,
        registers: r,
        collect: counter((c) => {
          c.reset();
          c.inc(pick(src.rtp()));
        }),
      });
    rtp('rtp_packets_total', 'RTP datagrams received from the taps', (x) => x.packets);
    rtp('rtp_lost_total', 'RTP packets missing from the taps (sequence gaps filled with silence)', (x) => x.lost);
    rtp('rtp_malformed_total', 'Datagrams on the RTP port that were not RTP', (x) => x.malformed);
    new Gauge({
      name: `${P}deliveries`,
      help: 'Deliveries in the outbox, by status',
      labelNames: ['status'],
      registers: r,
      collect: gauge(async (g) => {
        for (const [status, n] of Object.entries(await src.deliveries())) g.set({ status }, n);
      }),
    });
    new Gauge({
      name: `${P}target_up`,
      help: "The connectivity monitor's view: 1 up, 0 down (absent before the first check)",
      labelNames: ['target', 'kind'],
      registers: r,
      collect: gauge((g) => {
        g.reset();
        for (const t of src.targets()) if (t.up !== undefined) g.set({ target: t.name, kind: t.kind }, t.up ? 1 : 0);
      }),
    });
    new Counter({
      name: `${P}outages_total`,
      help: 'Outages opened, by target (kept in the catalog: they survive restarts)',
      labelNames: ['target'],
      registers: r,
      collect: counter(async (c) => {
        const outages = await src.outages();
        c.reset();
        for (const o of outages) c.inc({ target: o.target }, o.n);
      }),
    });
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...
    collectDefaultMetrics({ register: this.registry });
  }
}

/** The live calls' counters, from the Stasis app's bus. */
export function watchCalls(m: Metrics, stasis: EventEmitter): void {
  stasis.on('cpa', ({ event }: { event: { result: string; at_ms: number; decision?: boolean } }) => {
    m.cpaResults.inc({ result: String(event.result) });
    if (event.decision) m.cpaDecision.observe(event.at_ms / 1000);
  });
  stasis.on('call-ended', (s: { outcome: string }) => m.calls.inc({ outcome: s.outcome }));
}

// prom-client calls collect() with the metric as `this`, and awaits it (the catalog's counts are queries). A
// catalog that does not answer leaves the last values: a scrape during a database restart still succeeds.
function gauge(fn: (g: Gauge) => void | Promise<void>) {
  return async function (this: Gauge) {
    await Promise.resolve(fn(this)).catch(() => undefined);
  };
}
function counter(fn: (c: Counter) => void | Promise<void>) {
  return async function (this: Counter) {
    await Promise.resolve(fn(this)).catch(() => undefined);
  };
}
