import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { Bucket } from './bucket';
import type { Catalog, Recording } from './catalog';
import { insideRoot } from './file-store';
import { audioContentType } from './kinds';

// Moves catalogued audio into the bucket: upload, verify (size and SHA-256 of what the bucket holds), then
// the object key in the catalog, and only then (recordings.keepLocal off, every delivery finished) the local
// copy goes. Each step is idempotent and the catalog says how far each recording got, so a crash anywhere
// is finished by the next pass: the same key is uploaded again, nothing is orphaned, nothing is lost.

export interface ArchiverOptions {
  catalog: Catalog;
  bucket: Bucket;
  /** The recordings root as this service sees it. */
  root: string;
  log: Logger;
  /** Remove the local copy once archived and delivered (recordings.keepLocal off). */
  removeLocal: boolean;
  /** With a shared catalog: this companion's instance (only files on its disk are its to upload). */
  node?: string;
  /** Between passes when idle; a failing bucket backs off up to `maxBackoffMs`. */
  pollMs?: number;
  maxBackoffMs?: number;
  onArchived?: (r: Recording) => void;
}

export class Archiver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  /** Recordings whose local file is missing: not retried every pass (the sweep or an admin deals with them). */
  private readonly missing = new Set<string>();

  constructor(private readonly o: ArchiverOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** A recording was catalogued: archive it now rather than at the next poll. */
  kick(): void {
    if (!this.stopped && !this.running && this.failures === 0) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.passThenPause().then((next) => {
        this.running = undefined;
        if (!this.stopped) this.schedule(next);
      });
    }, ms);
    this.timer.unref();
  }

  /** One pass; resolves with how long to wait before the next (none when there is more, doubling while failing). */
  private async passThenPause(): Promise<number> {
    const poll = this.o.pollMs ?? 2000;
    try {
      const more = await this.pass();
      if (this.failures) this.o.log.info({ bucket: this.o.bucket.where }, 'archive: the bucket answers again; uploads resumed');
      this.failures = 0;
      return more ? 0 : poll;
    } catch (e) {
      if (this.failures++ === 0)
        this.o.log.warn(
          { bucket: this.o.bucket.where, err: (e as Error).message },
          'archive: the bucket does not take uploads now; recordings stay local and catalogued, retrying',
        );
      return Math.min(this.o.maxBackoffMs ?? 30_000, poll * 2 ** Math.min(this.failures, 6));
    }
  }

  /** One pass: uploads what is not archived yet, then removes local copies that may go. True when there may be more. */
  async pass(): Promise<boolean> {
    const { catalog, bucket, log } = this.o;
    const batch = (await catalog.toArchive(20, this.o.node)).filter((r) => !this.missing.has(r.id));
    for (const rec of batch) {
      if (this.stopped) return false;
      const file = join(this.o.root, insideRoot(this.o.root, rec.path));
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) {
        this.missing.add(rec.id);
        log.warn({ recording: rec.id, path: rec.path }, 'archive: the local file is missing; not uploaded');
        continue;
      }
      if (size !== rec.sizeBytes) {
        // The catalog measured it at registration: a file that changed since is not what it catalogued.
        this.missing.add(rec.id);
        log.error(
          { recording: rec.id, path: rec.path, size, catalogued: rec.sizeBytes },
          'archive: the local file changed since it was catalogued; not uploaded',
        );
        continue;
      }
      const key = bucket.keyFor(rec);
      await bucket.put(key, file, { size, sha256: rec.sha256 }, audioContentType(rec.format));
      await catalog.markArchived(rec.id, key);
      log.info({ recording: rec.id, key, bytes: size }, 'recording archived (size and SHA-256 verified)');
      this.o.onArchived?.({ ...rec, objectKey: key });
    }
    if (this.o.removeLocal) {
      for (const rec of await catalog.localRemovable(200, this.o.node)) {
        await rm(join(this.o.root, insideRoot(this.o.root, rec.path)), { force: true });
        await catalog.markLocalRemoved(rec.id, new Date());
      }
    }
    return batch.length === 20;
  }
}
