import { statfsSync } from 'node:fs';

export interface ReadinessSources {
  ariConnected(): boolean;
  /** Throws with the reason when the catalog cannot take a write. */
  catalogWritable(): void;
  /** Directories that must keep free space: the recordings (MixMonitor's) and the catalog's. */
  dirs: string[];
  minFreeBytes: number;
  /** Throws when no ffmpeg can be found. */
  ffmpeg(): void;
}

/** /readyz: what must hold for the service to do its job; each problem named. */
export function readiness(s: ReadinessSources): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  if (!s.ariConnected()) problems.push('ARI: not connected to Asterisk');
  try {
    s.catalogWritable();
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
