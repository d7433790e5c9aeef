import { open, stat } from 'node:fs/promises';

export interface ClosedWav {
  path: string;
  bytes: number;
  dataBytes: number;
  /** Audio length from the header's byte rate. */
  durationMs: number;
}

/** The recorder never created the file (or it was removed): waiting longer will not help. */
export class RecordingMissingError extends Error {
  override name = 'RecordingMissingError';
  readonly code = 'RECORDING_MISSING';
}

const HEADER = 44;

/**
 * MixMonitor writes a header with zero sizes when it opens the file and fixes the RIFF and data sizes only
 * when it closes it. A file is closed when the declared sizes match its length: a call with no audio at all
 * (busy before any media) closes as a bare 44-byte header with RIFF size 36 and data size 0.
 * Anything but a regular file (a FIFO, a device) is never a recording.
 */
export async function checkClosedWav(path: string): Promise<ClosedWav | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size < HEADER) return undefined;
    const head = Buffer.alloc(HEADER);
    await fh.read(head, 0, HEADER, 0);
    if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 36, 40) !== 'data') return undefined;
    const riff = head.readUInt32LE(4);
    const data = head.readUInt32LE(40);
    if (riff !== st.size - 8 || data !== st.size - HEADER) return undefined;
    const byteRate = head.readUInt32LE(28);
    return { path, bytes: st.size, dataBytes: data, durationMs: byteRate > 0 ? (data * 1000) / byteRate : 0 };
  } finally {
    await fh.close();
  }
}

/**
 * Waits until the recorder has closed the file and its size has held for `settleMs`. A file that does not
 * exist for `missingMs` is reported as missing (RecordingMissingError: permanent), one that stays open past
 * `timeoutMs` as not closed (worth another try later).
 */
export async function waitForClosedWav(path: string, timeoutMs = 30_000, settleMs = 500, missingMs = 10_000): Promise<ClosedWav> {
  const t0 = Date.now();
  const end = t0 + timeoutMs;
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
    if (!now && Date.now() - t0 > Math.min(missingMs, timeoutMs)) {
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (!exists) throw new RecordingMissingError(`recording ${path} does not exist`);
    }
    if (Date.now() > end) {
      const size = await stat(path).then(
        (s) => s.size,
        () => -1,
      );
      throw new Error(`recording ${path} not closed within ${timeoutMs} ms (${size < 0 ? 'missing' : `${size} bytes, header not final`})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
