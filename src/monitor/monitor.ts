import { EventEmitter } from 'node:events';
import type { Logger } from '../log';
import type { Outage, OutageLog } from '../recordings';
import type { Probe } from './probes';

export type TargetKind = 'ari' | 'sip' | 'webhook' | 'smtp' | 'ping' | 'tcp' | 'bucket';

export interface Target {
  /** Unique and stable: it names the target in the outage log (e.g. "sip 10.0.0.5:5060"). */
  name: string;
  kind: TargetKind;
  probe: Probe;
}

export interface TargetStatus {
  name: string;
  kind: TargetKind;
  /** undefined until the first check. */
  up: boolean | undefined;
  lastCheck: string | undefined;
  lastError: string | undefined;
  /** The outage going on, if any. */
  outage: Outage | undefined;
}

export interface MonitorOptions {
  targets: Target[];
  outages: OutageLog;
  log: Logger;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failed checks before a target counts as down (one lost packet is not an outage). */
  failuresToDown: number;
  /** Sends the "restored" alert; a rejection leaves it for the next round. */
  alert?: (restored: Outage[]) => Promise<void>;
  /** This companion's instance name: written on its outages; companions sharing a catalog keep their own. */
  instance?: string;
}

interface State {
  target: Target;
  up: boolean | undefined;
  failures: number;
  firstFailureAt: Date | undefined;
  lastCheck: Date | undefined;
  lastError: string | undefined;
  outage: Outage | undefined;
}

/**
 * Checks every target each interval and keeps the outage log: an outage opens after `failuresToDown`
 * failed checks (dated from the first of them) and closes at the first good check, with its duration.
 * Restored outages are then alerted (mailed) until that succeeds. Emits 'down' and 'restored' (Outage).
 */
export class ConnectivityMonitor extends EventEmitter {
  private readonly states: State[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  private resumed = false;

  constructor(private readonly o: MonitorOptions) {
    super();
    this.states = o.targets.map((target) => ({
      target,
      up: undefined,
      failures: 0,
      firstFailureAt: undefined,
      lastCheck: undefined,
      lastError: undefined,
      outage: undefined,
    }));
  }

  /** An outage that was going on when this instance stopped continues (same row, same start). */
  private async resume(): Promise<void> {
    const ongoing = new Map((await this.o.outages.ongoing(this.o.instance)).map((x) => [x.target, x]));
    for (const s of this.states) {
      const open = ongoing.get(s.target.name);
      ongoing.delete(s.target.name);
      if (!open) continue;
      Object.assign(s, { up: false, failures: this.o.failuresToDown, lastError: open.error, outage: open });
    }
    // Targets no longer configured: their outages end now (nobody watches them any more).
    for (const stale of ongoing.values()) {
      await this.o.outages.close(stale.id, new Date());
      await this.o.outages.markAlerted([stale.id], new Date());
    }
    this.resumed = true;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.running = this.round()
        .catch((e: unknown) =>
          this.o.log.warn({ err: (e as Error).message }, 'connectivity round could not reach the catalog; next round retries'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.o.intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  status(): TargetStatus[] {
    return this.states.map((s) => ({
      name: s.target.name,
      kind: s.target.kind,
      up: s.up,
      lastCheck: s.lastCheck?.toISOString(),
      lastError: s.lastError,
      outage: s.outage,
    }));
  }

  /** One round: every target checked at once, then pending alerts. */
  async round(): Promise<void> {
    if (!this.resumed) await this.resume();
    await Promise.all(this.states.map((s) => this.check(s)));
    await this.sendAlerts();
  }

  private async check(s: State): Promise<void> {
    const at = new Date();
    let error: string | undefined;
    try {
      await s.target.probe(this.o.timeoutMs);
    } catch (e) {
      error = (e as Error).message || String(e);
    }
    s.lastCheck = new Date();
    const log = this.o.log.child({ target: s.target.name, kind: s.target.kind });
    if (error === undefined) {
      s.failures = 0;
      s.firstFailureAt = undefined;
      s.lastError = undefined;
      if (s.outage !== undefined) {
        const o = (await this.o.outages.close(s.outage.id, s.lastCheck)) ?? s.outage;
        s.outage = undefined;
        log.info({ outage: o.id, durationMs: o.durationMs, since: o.startedAt }, 'connectivity restored');
        this.emit('restored', o);
      } else if (s.up === undefined) {
        log.info('connectivity ok');
      }
      s.up = true;
      return;
    }
    s.failures++;
    s.firstFailureAt ??= at;
    s.lastError = error;
    if (s.outage !== undefined) {
      await this.o.outages.note(s.outage.id, error);
      s.outage = { ...s.outage, error: error.slice(0, 500) };
      return;
    }
    if (s.failures < this.o.failuresToDown) {
      log.debug({ err: error, failures: s.failures }, 'check failed');
      return;
    }
    const o = await this.o.outages.open(s.target.name, s.target.kind, s.firstFailureAt, error, this.o.instance);
    s.outage = o;
    s.up = false;
    log.warn({ outage: o.id, err: error, since: o.startedAt }, 'connectivity lost');
    this.emit('down', o);
  }

  private async sendAlerts(): Promise<void> {
    const pending = await this.o.outages.unalerted(this.o.instance);
    if (!pending.length) return;
    if (!this.o.alert) {
      await this.o.outages.markAlerted(
        pending.map((p) => p.id),
        new Date(),
      );
      return;
    }
    try {
      await this.o.alert(pending);
      await this.o.outages.markAlerted(
        pending.map((p) => p.id),
        new Date(),
      );
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message, outages: pending.map((p) => p.id) }, 'restore alert not sent yet; will retry');
    }
  }
}

/** "2 min 13 s", "45 s", "1 h 2 min". */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${Math.max(s, 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The restore alert: one message for everything restored since the last one. */
export function restoredMail(restored: Outage[], host: string): { subject: string; text: string } {
  const first = restored[0]!;
  const subject =
    restored.length === 1
      ? `Restored: ${first.target} was down for ${humanDuration(first.durationMs ?? 0)}`
      : `Restored: ${restored.length} connections (${restored.map((r) => r.target).join(', ')})`.slice(0, 200);
  const text = [
    `dialplan-companion ${host}: connectivity restored.`,
    '',
    ...restored.flatMap((r) => [
      `${r.target} (${r.kind}${r.instance ? `, seen from ${r.instance}` : ''})`,
      `  down from ${r.startedAt} to ${r.endedAt}: ${humanDuration(r.durationMs ?? 0)}`,
      `  last error: ${r.error}`,
      '',
    ]),
  ].join('\n');
  return { subject, text };
}
