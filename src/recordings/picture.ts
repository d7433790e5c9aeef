import { open } from 'node:fs/promises';
import { decodeAlaw, decodeUlaw } from '../media/g711';
import { checkWavFormat, wavLayout } from '../media/wav';

// The call picture: the recording's level over time, per channel (MixMonitor's mono mix is one; a two-leg
// file is two), in a few hundred bins. Computed once when the recording is registered, read in chunks (an
// hour-long file is never in memory at once, the event loop that carries RTP is never held for long), and
// stored with the row, so a recording's page draws it without touching the audio.

export interface CallPicture {
  v: 1;
  /** Each bin covers this much audio. */
  binMs: number;
  /** Per channel, per bin: RMS level in dBFS, rounded, floored at -90. */
  levels: number[][];
}

const BINS = 500;
const CHUNK = 256 * 1024;
const FLOOR_DB = -90;

export async function computePicture(file: string, bins = BINS): Promise<CallPicture> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(64 * 1024, (await fh.stat()).size));
    await fh.read(head, 0, head.length, 0);
    const { fmt, dataOffset, dataSize } = wavLayout(head);
    checkWavFormat(fmt);
    const bytesPerSample = fmt.bits / 8;
    const frameBytes = bytesPerSample * fmt.channels;
    const frames = Math.floor(dataSize / frameBytes);
    const durationMs = (frames / fmt.rate) * 1000;
    const binMs = Math.max(20, Math.ceil(durationMs / bins));
    const framesPerBin = Math.max(1, Math.round((binMs / 1000) * fmt.rate));
    const nBins = Math.max(1, Math.ceil(frames / framesPerBin));
    const sums = Array.from({ length: fmt.channels }, () => new Float64Array(nBins));
    const buf = Buffer.alloc(Math.floor(CHUNK / frameBytes) * frameBytes);
    let frame = 0;
    for (let pos = 0; pos < frames * frameBytes;) {
      const want = Math.min(buf.length, frames * frameBytes - pos);
      const { bytesRead } = await fh.read(buf, 0, want, dataOffset + pos);
      if (bytesRead <= 0) break;
      const n = Math.floor(bytesRead / frameBytes);
      const samples = decode(buf.subarray(0, n * frameBytes), fmt.tag, fmt.bits);
      for (let i = 0; i < n; i++, frame++) {
        const bin = Math.floor(frame / framesPerBin);
        for (let c = 0; c < fmt.channels; c++) {
          const s = samples[i * fmt.channels + c]!;
          sums[c]![bin]! += s * s;
        }
      }
      pos += n * frameBytes;
    }
    const levels = sums.map((ch) =>
      Array.from(ch, (sum, b) => {
        const count = Math.min(framesPerBin, frames - b * framesPerBin);
        const rms = count > 0 ? Math.sqrt(sum / count) : 0;
        return rms > 0 ? Math.max(FLOOR_DB, Math.round(20 * Math.log10(rms / 32768))) : FLOOR_DB;
      }),
    );
    return { v: 1, binMs, levels };
  } finally {
    await fh.close();
  }
}

function decode(b: Buffer, tag: number, bits: number): Int16Array {
  if (tag === 7) return decodeUlaw(b);
  if (tag === 6) return decodeAlaw(b);
  if (bits === 8) return Int16Array.from(b, (x) => (x - 128) << 8);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** The stored form, validated on the way out (a row written by another version must not break a page). */
export function readPicture(text: string | null | undefined): CallPicture | undefined {
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as CallPicture;
    return p.v === 1 && Number.isFinite(p.binMs) && Array.isArray(p.levels) && p.levels.every(Array.isArray) ? p : undefined;
  } catch {
    return undefined;
  }
}
