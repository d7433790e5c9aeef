import { statfsSync } from 'node:fs';

export interface ReadinessSources {
  ariConnected(): boolean;
  /** Rejects with the reason when the catalog cannot take a write. */
  catalogWritable(): Promise<void>;
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
  try {
    // Bounded: a database that does not answer is a problem to report, not a /readyz that hangs.
    let cap: NodeJS.Timeout | undefined;
    await Promise.race([
      s.catalogWritable(),
      new Promise((_, reject) => (cap = setTimeout(() => reject(new Error('no answer within 2 s')), 2000))),
    ]).finally(() => clearTimeout(cap));
  } catch (e) {
    problems.push(`catalog: not writable: ${(e as Error).message}`);
  }
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
