import { statfsSync } from 'node:fs';

export interface ReadinessSources {
  ariConnected(): boolean;
  /** Rejects with the reason when the catalog cannot take a write. */
  catalogWritable(): Promise<void>;
  /** Rejects with the reason when the bucket does not answer or refuses a write (absent: no bucket). */
  bucketWritable?: () => Promise<void>;
  /** Directories that must keep free space: the recordings (MixMonitor's) and the catalog's. */
  dirs: string[];
  minFreeBytes: number;
  /** Throws when no ffmpeg can be found. */
  ffmpeg(): void;
}

/** /readyz: what must hold for the service to do its job; each problem named. */
export async function readiness(s: ReadinessSources): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  if (!s.ariConnected()) problems.push('ARI: not connected to Asterisk');
  // Bounded: a database or bucket that does not answer is a problem to report, not a /readyz that hangs.
  const within = async (p: Promise<void>) => {
    let cap: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise((_, reject) => (cap = setTimeout(() => reject(new Error('no answer within 2 s')), 2000)))]).finally(
      () => clearTimeout(cap),
    );
  };
  const [catalog, bucket] = await Promise.allSettled([within(s.catalogWritable()), s.bucketWritable && within(s.bucketWritable())]);
  if (catalog.status === 'rejected') problems.push(`catalog: not writable: ${(catalog.reason as Error).message}`);
  // Recordings stay local and catalogued while the bucket is away: worth a 503, the archive is behind.
  if (bucket.status === 'rejected') problems.push(`bucket: ${(bucket.reason as Error).message} (recordings stay local until it answers)`);
  for (const dir of s.dirs) {
    try {
      const st = statfsSync(dir);
      const free = st.bavail * st.bsize;
      if (free < s.minFreeBytes) problems.push(`${dir}: ${free} bytes free, less than recordings.minFreeBytes (${s.minFreeBytes})`);
    } catch (e) {
      problems.push(`${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  try {
    s.ffmpeg();
  } catch (e) {
    problems.push(`ffmpeg: ${(e as Error).message}`);
  }
  return { ok: problems.length === 0, problems };
}
