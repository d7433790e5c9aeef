import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { Bucket } from './bucket';
import type { Catalog } from './catalog';
import { insideRoot } from './file-store';

export interface RetentionOptions {
  catalog: Catalog;
  root: string;
  /** Audio older than this many days is deleted (0 = keep forever). */
  days: number;
  log: Logger;
  /** This companion's instance: only the files on its disk are its to delete. */
  node?: string;
  /** The archive: the object goes with the local copy. */
  bucket?: Bucket;
}

/**
 * Deletes the audio of recordings past retention whose deliveries are all finished (delivered or dead),
 * and marks them purged. The catalog row stays: who called whom, when, for how long and what the CPA heard.
 */
export async function sweepRetention(o: RetentionOptions, now = new Date()): Promise<number> {
  if (o.days <= 0) return 0;
  const before = new Date(now.getTime() - o.days * 86_400_000).toISOString();
  let purged = 0;
  for (;;) {
    const batch = await o.catalog.purgeable(before, 500, o.node);
    const was = purged;
    for (const rec of batch) {
      try {
        if (rec.objectKey && o.bucket) await o.bucket.delete(rec.objectKey);
        rmSync(join(o.root, insideRoot(o.root, rec.path)), { force: true });
      } catch (e) {
        o.log.error({ recording: rec.id, err: (e as Error).message }, 'retention: could not delete the audio; kept');
        continue;
      }
      await o.catalog.markPurged(rec.id, now);
      purged++;
    }
    if (batch.length < 500 || purged === was) break; // the last batch, or nothing more can be deleted now
  }
  if (purged) o.log.info({ purged, olderThan: before }, 'retention: audio of old recordings deleted');
  return purged;
}

/** The retention rule at start-up, then hourly (only when it is on). */
export function startRetention(o: RetentionOptions): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    running ??= sweepRetention(o)
      .catch((e: unknown) => o.log.error({ err: (e as Error).message }, 'retention sweep failed'))
      .finally(() => (running = undefined));
  };
  sweep();
  const timer = o.days > 0 ? setInterval(sweep, 3600_000).unref() : undefined;
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
