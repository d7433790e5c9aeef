import { open, stat } from 'node:fs/promises';

export interface ClosedWav {
  path: string;
  bytes: number;
  dataBytes: number;
  /** Audio length from the header's byte rate. */
  durationMs: number;
}

/**
 * MixMonitor keeps writing after the hangup and fixes the WAV header's sizes only when it closes the
 * file. A file is ready when the declared RIFF and data sizes match its length, it holds audio (more than
 * a bare 44-byte header) and its size has not changed for `settleMs`.
 */
export async function checkClosedWav(path: string): Promise<ClosedWav | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const { size } = await fh.stat();
    if (size <= 44) return undefined;
    const head = Buffer.alloc(44);
    await fh.read(head, 0, 44, 0);
    if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 36, 40) !== 'data') return undefined;
    const riff = head.readUInt32LE(4);
    const data = head.readUInt32LE(40);
    if (riff !== size - 8 || data !== size - 44) return undefined;
    const byteRate = head.readUInt32LE(28);
    return { path, bytes: size, dataBytes: data, durationMs: byteRate > 0 ? (data * 1000) / byteRate : 0 };
  } finally {
    await fh.close();
  }
}

export async function waitForClosedWav(path: string, timeoutMs = 30_000, settleMs = 500): Promise<ClosedWav> {
  const end = Date.now() + timeoutMs;
  let last: ClosedWav | undefined;
  let since = 0;
  for (;;) {
    const now = await checkClosedWav(path);
    if (now && last && now.bytes === last.bytes) {
      if (Date.now() - since >= settleMs) return now;
    } else {
      last = now;
      since = Date.now();
    }
    if (Date.now() > end) {
      const size = await stat(path).then((s) => s.size, () => -1);
      throw new Error(`recording ${path} not closed within ${timeoutMs} ms (${size < 0 ? 'missing' : `${size} bytes, header not final`})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
