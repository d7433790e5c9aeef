import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recording } from './catalog';
import { checkClosedWav, RecordingMissingError } from './closed-wav';
import { PathOutsideRootError } from './file-store';
import { registerRecording, relativeRecordingPath, type FinishedCall, type RegistrarOptions } from './register';

export interface CallStarted {
  uniqueid: string;
  linkedid?: string | null;
  ani: string;
  dnis: string;
  startedAt?: Date;
  /** The MixMonitor file as Asterisk names it. */
  file: string;
}

export interface RecorderOptions extends RegistrarOptions {
  /** A call this process is still serving: the sweep leaves its row and file alone. */
  isActive(uniqueid: string): boolean;
  /** Days of dated directories (YYYY/MM/DD) the sweep looks through for files without a row (-1: none). */
  recoverDays: number;
  /** Attempts for a recording that is not closed yet (10 s, 20 s, ... apart). */
  maxAttempts?: number;
  /** A written-ahead row whose file never appeared is closed as no audio after this long. */
  missingAfterMs?: number;
  /** Retries of a registration come this long apart, times the attempt (10 s, 20 s, ...). */
  retryBaseMs?: number;
}

// <YYYYMMDD-HHMMSS>-<ANI>-<DNIS>-<uniqueid>.wav: the dialplan snippet's name, chosen so a file alone says
// whose call it is (dialplan/extensions_custom.conf).
// The uniqueid carries Asterisk's systemname when one is set (several PBXs: "pbx1-1733059200.42").
const OUR_FILE = /^\d{8}-\d{6}-([0-9A-Za-z+]+)-(\d*)-((?:[A-Za-z0-9_.-]+-)?\d+\.\d+)\.wav$/;
// A file modified this recently may still be closing (its hangup registration may be on its way).
const SETTLED_MS = 5000;
// How long a call waits for its written-ahead row before it is dialled anyway.
const WRITE_AHEAD_WAIT_MS = 2000;

/**
 * Every recording of a call reaches the catalog once: written ahead when the call starts, completed at the
 * hangup, and, for what a crash interrupted, completed by a sweep at start-up and every few minutes
 * (Postfix's queue works this way: the message is on disk before anything else happens).
 */
export class Recorder {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly anonymous = new Set<Promise<unknown>>();
  private stopping = false;
  private sweeping: Promise<SweepResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Per dated directory, the files already seen in the catalog. */
  private readonly catalogued = new Map<string, Set<string>>();

  constructor(private readonly o: RecorderOptions) {}

  /**
   * Write ahead: the call's row exists before it is dialled. Never rejects (the call must go on), and waits at
   * most `WRITE_AHEAD_WAIT_MS` for a database that is slow or away: the hangup catalogues the call anyway.
   */
  async callStarted(c: CallStarted): Promise<void> {
    const log = (err: string) =>
      this.o.log.error(
        { uniqueid: c.uniqueid, file: c.file, err },
        'call not written ahead in the catalog (the hangup will still catalogue it)',
      );
    const written = Promise.resolve()
      .then(() =>
        this.o.catalog.beginRecording({
          ...c,
          path: relativeRecordingPath(this.o, c.file),
          source: 'ari',
          node: this.o.writtenBy ?? this.o.node ?? null,
        }),
      )
      .then(
        () => 'written' as const,
        (e: unknown) => (log((e as Error).message), 'failed' as const),
      );
    let cap: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (cap = setTimeout(() => r('late'), WRITE_AHEAD_WAIT_MS)));
    if ((await Promise.race([written, late])) === 'late') log(`no answer from the catalog within ${WRITE_AHEAD_WAIT_MS} ms`);
    clearTimeout(cap);
  }

  /** A call ended: catalogue its recording once the recorder closed it; retried while it is not closed. */
  callFinished(call: FinishedCall, attempt = 1): void {
    const p = this.registerOnce(call).catch((e: unknown) => {
      const err = e as Error;
      const log = { uniqueid: call.uniqueid, file: call.file, source: call.source, attempt, err: err.message };
      if (err instanceof RecordingMissingError || err instanceof PathOutsideRootError) {
        // Waiting will not bring it back: say so once, close a written-ahead row, no retries.
        this.o.log.warn(log, 'recording cannot be catalogued');
        return this.closeWithoutAudio(call, err.message);
      }
      const last = attempt >= (this.o.maxAttempts ?? 10);
      if (last) this.o.log.error(log, 'recording not catalogued; the sweep will try again');
      else this.o.log.warn(log, 'recording not catalogued yet, retrying');
      if (!last && !this.stopping) setTimeout(() => this.callFinished(call, attempt + 1), (this.o.retryBaseMs ?? 10_000) * attempt).unref();
    });
    this.track(call.uniqueid, p);
  }

  /** Registers now and waits (uploads: the caller answers only once the row exists). */
  registerNow(call: FinishedCall): Promise<Recording> {
    return this.registerOnce(call);
  }

  private registerOnce(call: FinishedCall): Promise<Recording> {
    const busy = call.uniqueid ? this.inFlight.get(call.uniqueid) : undefined;
    // The same call reported twice (hangup handler + AGI after Dial, or the sweep) is catalogued once.
    const p = (busy ?? Promise.resolve()).catch(() => undefined).then(() => registerRecording(this.o, call));
    this.track(call.uniqueid, p);
    return p;
  }

  private track(uniqueid: string | null, p: Promise<unknown>): void {
    if (uniqueid) {
      this.inFlight.set(uniqueid, p);
      void p
        .finally(() => {
          if (this.inFlight.get(uniqueid) === p) this.inFlight.delete(uniqueid);
        })
        .catch(() => undefined);
    } else {
      this.anonymous.add(p);
      void p.finally(() => this.anonymous.delete(p)).catch(() => undefined);
    }
  }

  private async closeWithoutAudio(call: FinishedCall, why: string): Promise<void> {
    if (!call.uniqueid) return;
    try {
      const row = await this.o.catalog.recordingOfCall(call.uniqueid, this.o.node);
      if (row?.state !== 'recording') return;
      await this.o.catalog.addRecording(
        {
          ...row,
          startedAt: null,
          answeredAt: call.answeredAt ?? null,
          endedAt: call.endedAt ?? new Date(),
          cpaEvents: call.cpaEvents ?? [],
          cpaResult: call.cpaResult ?? null,
          state: 'no_audio',
          sha256: '',
        },
        [],
      );
      this.o.log.info({ uniqueid: call.uniqueid, why }, 'call catalogued without audio');
    } catch (e) {
      this.o.log.error({ uniqueid: call.uniqueid, err: (e as Error).message }, 'could not close the catalog row');
    }
  }

  /** The sweep at start-up and then every `everyMs`. */
  startSweeps(everyMs: number): void {
    const run = () => void this.sweep().catch((e: unknown) => this.o.log.error({ err: (e as Error).message }, 'recovery sweep failed'));
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  /**
   * Finishes what a crash left: written-ahead rows of calls no longer served whose file is closed, and
   * MixMonitor files of our naming in the last `recoverDays` dated directories that have no row at all.
   */
  sweep(now = Date.now()): Promise<SweepResult> {
    this.sweeping ??= this.doSweep(now).finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async doSweep(now: number): Promise<SweepResult> {
    const out: SweepResult = { completed: 0, recovered: 0, noAudio: 0 };
    const skip = (uniqueid: string | null) => !!uniqueid && (this.o.isActive(uniqueid) || this.inFlight.has(uniqueid));
    for (const row of await this.o.catalog.openRecordings(10_000, this.o.node)) {
      if (this.stopping) return out;
      if (skip(row.uniqueid)) continue;
      const abs = join(this.o.root, row.path);
      const wav = await checkClosedWav(abs);
      if (wav) {
        if (!(await settled(abs, now))) continue;
        const rec = await this.registerOnce({
          uniqueid: row.uniqueid,
          linkedid: row.linkedid,
          ani: row.ani,
          dnis: row.dnis,
          startedAt: row.startedAt ? new Date(row.startedAt) : undefined,
          file: abs,
          source: row.source,
          recovered: true,
        }).catch((e: unknown) => {
          this.o.log.warn({ uniqueid: row.uniqueid, err: (e as Error).message }, 'sweep: could not complete the recording');
          return undefined;
        });
        if (rec?.state === 'no_audio') out.noAudio++;
        else if (rec) out.completed++;
      } else if (!(await exists(abs)) && now - Date.parse(row.createdAt) > (this.o.missingAfterMs ?? 120_000)) {
        await this.closeWithoutAudio(
          { uniqueid: row.uniqueid, ani: row.ani, dnis: row.dnis, file: abs, source: row.source },
          'the recording file never appeared',
        );
        out.noAudio++;
      }
    }
    const dirs = datedDirs(this.o.root, this.o.recoverDays, now);
    for (const d of this.catalogued.keys()) if (!dirs.includes(d)) this.catalogued.delete(d);
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      // Files found in the catalog once stay there: a busy day's spool is not looked up again every sweep.
      const known = this.catalogued.get(dir) ?? new Set<string>();
      this.catalogued.set(dir, known);
      for (const name of names) {
        if (this.stopping) return out;
        if (known.has(name)) continue;
        const m = OUR_FILE.exec(name);
        if (!m) continue;
        const uniqueid = m[3]!;
        if (skip(uniqueid)) continue;
        if (await this.o.catalog.recordingOfCall(uniqueid, this.o.node)) {
          known.add(name);
          continue;
        }
        const abs = join(dir, name);
        if (!(await checkClosedWav(abs)) || !(await settled(abs, now))) continue;
        // No row was written ahead: the *124 (AGI) door's calls, or one lost in the first moment of a call.
        const rec = await this.registerOnce({
          uniqueid,
          ani: m[1] === 'anonymous' ? '' : m[1]!,
          dnis: m[2]!,
          file: abs,
          source: 'agi',
          recovered: true,
        }).catch((e: unknown) => {
          this.o.log.warn({ uniqueid, file: abs, err: (e as Error).message }, 'sweep: could not register the file');
          return undefined;
        });
        if (rec) out.recovered++;
      }
    }
    if (out.completed || out.recovered || out.noAudio) this.o.log.info(out, 'recovery sweep: recordings a restart had left are catalogued');
    return out;
  }

  /** Lets registrations in progress finish (at most `capMs`), then stops retrying. */
  async stop(capMs = 35_000): Promise<void> {
    clearInterval(this.timer);
    let cap: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values(), ...this.anonymous, this.sweeping]),
      new Promise((r) => (cap = setTimeout(r, capMs))),
    ]);
    clearTimeout(cap);
    this.stopping = true;
  }
}

export interface SweepResult {
  /** Written-ahead rows completed. */
  completed: number;
  /** Files without a row, catalogued. */
  recovered: number;
  /** Rows closed as calls without audio. */
  noAudio: number;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function settled(p: string, now: number): Promise<boolean> {
  const s = await stat(p).catch(() => undefined);
  return !!s && now - s.mtimeMs >= SETTLED_MS;
}

/** root/YYYY/MM/DD for the last `days` days, in local time and UTC (Asterisk's clock may be either). */
function datedDirs(root: string, days: number, now: number): string[] {
  const out = new Set<string>();
  const pad = (n: number) => String(n).padStart(2, '0');
  for (let i = 0; i <= days; i++) {
    const d = new Date(now - i * 86_400_000);
    out.add(join(root, String(d.getFullYear()), pad(d.getMonth() + 1), pad(d.getDate())));
    out.add(join(root, String(d.getUTCFullYear()), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())));
  }
  return [...out];
}
