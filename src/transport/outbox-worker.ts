import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { Bucket, Catalog, Delivery, Recording } from '../recordings';
import { convert, CONTENT_TYPE, CONVERT_PREFIX, type OutputFormat } from './ffmpeg';
import type { AttemptResult } from './webhook';
import { configSchema } from '../config/schema';

// The tuning a caller leaves out is the configuration's default: one source for both.
const DEFAULTS = configSchema.parse({}).transport;

/** Delivers one recording (already converted) to one target. */
export type DeliveryHandler = (
  d: Delivery,
  rec: Recording,
  audio: { path: string; name: string; contentType: string; bytes: number },
) => Promise<AttemptResult>;

export interface OutboxOptions {
  catalog: Catalog;
  root: string;
  handlers: Partial<Record<Delivery['kind'], DeliveryHandler>>;
  format: OutputFormat;
  log: Logger;
  pollMs?: number;
  concurrency?: number;
  /** A delivery left 'sending' longer than this (its worker died) is taken again. */
  leaseMs?: number;
  /** Retries stop (dead letter) this long after the recording was catalogued. */
  maxAgeMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  ffmpeg?: string;
  /**
   * Where conversions write their temporary files. Owned by this worker: whatever a killed process left
   * there is removed at start (without it, the system's temp directory, where a kill -9 leaves them).
   */
  workDir?: string;
  /** This companion's instance name: it takes only deliveries whose audio it can read (its own recordings). */
  node?: string;
  /** The archive: audio no longer (or never) on this disk is read from there. */
  bucket?: Bucket;
  /** Every attempt's outcome (metrics); `sinceRegisteredMs` is the recording's age when it was delivered. */
  onAttempt?: (a: { kind: Delivery['kind']; outcome: 'delivered' | 'retry' | 'dead'; sinceRegisteredMs: number }) => void;
}

/** Exponential backoff with +-20 % jitter, never sooner than a receiver's Retry-After. */
export function backoffMs(attempt: number, base: number, max: number, retryAfter?: number, rand = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (0.8 + 0.4 * rand());
  return Math.max(jittered, retryAfter ?? 0);
}

/**
 * The outbox worker: takes due deliveries from the catalog, converts the audio, hands it to the
 * delivery's handler and records the outcome. Crash-safe by construction: a delivery is only marked
 * done after its receiver said so, and one abandoned mid-flight is leased again later (so a receiver may
 * see it twice, always with the same idempotency key).
 */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private stopped = true;
  private readonly inflight = new Set<Promise<void>>();
  private claiming: Promise<void> | undefined;
  private claimFailing = false;

  constructor(private readonly o: OutboxOptions) {}

  start(): void {
    if (this.o.workDir) {
      mkdirSync(this.o.workDir, { recursive: true });
      for (const name of readdirSync(this.o.workDir))
        if (name.startsWith(CONVERT_PREFIX)) rmSync(join(this.o.workDir, name), { recursive: true, force: true });
    }
    this.stopped = false;
    this.schedule(0);
  }

  /** Something new was queued: look now rather than at the next poll. */
  kick(): void {
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.claiming;
    await Promise.all(this.inflight);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    if (this.stopped || this.claiming) return;
    this.claiming = this.claim()
      .then(
        () => {
          this.claimFailing = false;
        },
        (e: unknown) => {
          // The database is away (restarting, unreachable): nothing is lost, the next poll tries again.
          if (!this.claimFailing)
            this.o.log.warn({ err: (e as Error).message }, 'outbox: cannot claim deliveries now; retrying every poll');
          this.claimFailing = true;
        },
      )
      .finally(() => {
        this.claiming = undefined;
        if (!this.stopped) this.schedule(this.o.pollMs ?? DEFAULTS.pollMs);
      });
  }

  private async claim(): Promise<void> {
    const free = (this.o.concurrency ?? DEFAULTS.concurrency) - this.running;
    const due = free > 0 ? await this.o.catalog.claimDue(free, this.o.leaseMs ?? DEFAULTS.leaseMs, Date.now(), this.o.node) : [];
    for (const d of due) {
      this.running++;
      const p = this.deliver(d).finally(() => {
        this.running--;
        this.inflight.delete(p);
        this.kick();
      });
      this.inflight.add(p);
    }
  }

  private deliver(d: Delivery): Promise<void> {
    return this.attempt(d).catch((e: unknown) =>
      // Most likely the database went away after the claim: the lease runs out and the delivery is taken again.
      this.o.log.warn(
        { delivery: d.id, route: d.route, err: (e as Error).message },
        'delivery outcome not recorded; it will be retried after its lease',
      ),
    );
  }

  private async attempt(d: Delivery): Promise<void> {
    const { catalog, log } = this.o;
    const rec = await catalog.getRecording(d.recordingId);
    const started = Date.now();
    if (!rec) {
      await catalog.finishAttempt(d, { outcome: 'dead', error: 'recording not in the catalog', durationMs: 0 });
      return;
    }
    const handler = this.o.handlers[d.kind];
    let result: AttemptResult;
    if (!handler) {
      result = { outcome: 'retry', error: `no ${d.kind} transport configured` };
    } else {
      let audio: Awaited<ReturnType<typeof convert>> | undefined;
      let fetched: string | undefined;
      try {
        let source = join(this.o.root, rec.path);
        if (!existsSync(source) && rec.objectKey && this.o.bucket) {
          // Another companion's recording, or one whose local copy went after archiving: from the bucket.
          fetched = join(this.o.workDir ?? tmpdir(), `${CONVERT_PREFIX}fetch-${randomBytes(6).toString('hex')}.${rec.format}`);
          await this.o.bucket.download(rec.objectKey, fetched);
          source = fetched;
        }
        audio = await convert(source, this.o.format, { ffmpeg: this.o.ffmpeg, tmpDir: this.o.workDir });
        const { size } = statSync(audio.path);
        const name = `${rec.ani}-${rec.dnis}-${rec.id}.${this.o.format}`;
        result = await handler(d, rec, { path: audio.path, name, contentType: CONTENT_TYPE[this.o.format], bytes: size });
      } catch (e) {
        result = { outcome: 'retry', error: (e as Error).message };
      } finally {
        audio?.cleanup();
        if (fetched) rmSync(fetched, { force: true });
      }
    }
    const now = Date.now();
    const durationMs = now - started;
    if (result.outcome === 'retry') {
      const age = now - Date.parse(rec.createdAt);
      if (age >= (this.o.maxAgeMs ?? DEFAULTS.maxAgeHours * 3600_000)) {
        result = { ...result, outcome: 'dead', error: `gave up after ${d.attempts} attempts: ${result.error ?? ''}` };
      }
    }
    const retryAt =
      now +
      backoffMs(
        d.attempts,
        this.o.baseBackoffMs ?? DEFAULTS.baseBackoffMs,
        this.o.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
        result.retryAfterMs,
      );
    const kept = await catalog.finishAttempt(
      d,
      { outcome: result.outcome, httpStatus: result.httpStatus ?? null, error: result.error ?? null, durationMs, retryAt },
      now,
    );
    if (!kept)
      log.warn(
        { recording: rec.id, route: d.route, attempt: d.attempts },
        'delivery lease lost (another worker took it over): outcome kept as history only',
      );
    this.o.onAttempt?.({ kind: d.kind, outcome: result.outcome, sinceRegisteredMs: now - Date.parse(rec.createdAt) });
    log[result.outcome === 'dead' ? 'error' : result.outcome === 'retry' ? 'warn' : 'info'](
      {
        recording: rec.id,
        uniqueid: rec.uniqueid,
        route: d.route,
        attempt: d.attempts,
        outcome: result.outcome,
        httpStatus: result.httpStatus,
        error: result.error,
        retryInMs: result.outcome === 'retry' ? retryAt - now : undefined,
      },
      `delivery ${result.outcome}`,
    );
  }
}
