import { open } from 'node:fs/promises';
import { AudioFormatError } from './wav';

export interface WavProbe {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataBytes: number;
  durationMs: number;
}

// Chunks before 'data' (fmt, LIST, fact) fit in this much of any real recorder's file.
const HEAD_BYTES = 64 * 1024;
const ENCODINGS: Record<number, number[]> = { 1: [8, 16], 6: [8], 7: [8] };

/**
 * Checks a WAV file without decoding it: only its first 64 KiB are read (a 50 MB upload costs no more
 * than a small one), the chunk sizes are checked against the real file size, and every problem is named.
 * Accepts PCM 8/16-bit, A-law and mu-law, 1-8 channels, 4-192 kHz. Never mentions the file's own name:
 * callers put these messages in replies.
 */
export async function probeWavFile(path: string): Promise<WavProbe> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new AudioFormatError('not a regular file');
    const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
    await fh.read(head, 0, head.length, 0);
    if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE')
      throw new AudioFormatError('not a WAV file (no RIFF/WAVE header)');
    let off = 12;
    let fmt: { tag: number; channels: number; rate: number; bits: number; byteRate: number } | undefined;
    while (off + 8 <= head.length) {
      const id = head.toString('ascii', off, off + 4);
      const size = head.readUInt32LE(off + 4);
      const body = off + 8;
      if (id === 'fmt ') {
        if (size < 16 || body + 16 > head.length) throw new AudioFormatError('WAV fmt chunk too short');
        let tag = head.readUInt16LE(body);
        if (tag === 0xfffe && size >= 40 && body + 26 <= head.length) tag = head.readUInt16LE(body + 24);
        fmt = {
          tag,
          channels: head.readUInt16LE(body + 2),
          rate: head.readUInt32LE(body + 4),
          byteRate: head.readUInt32LE(body + 8),
          bits: head.readUInt16LE(body + 14),
        };
      } else if (id === 'data') {
        if (!fmt) throw new AudioFormatError('WAV data chunk before fmt chunk');
        const available = st.size - body;
        if (size > available)
          throw new AudioFormatError(
            `the WAV header declares ${size} bytes of audio but the file holds ${available} (truncated, or still being written)`,
          );
        if (!ENCODINGS[fmt.tag]?.includes(fmt.bits))
          throw new AudioFormatError(`unsupported WAV encoding (format tag ${fmt.tag}, ${fmt.bits} bits): use PCM 16-bit, mu-law or A-law`);
        if (fmt.channels < 1 || fmt.channels > 8) throw new AudioFormatError(`unsupported channel count ${fmt.channels}`);
        if (fmt.rate < 4000 || fmt.rate > 192000) throw new AudioFormatError(`unsupported sample rate ${fmt.rate}`);
        const expectedRate = (fmt.rate * fmt.channels * fmt.bits) / 8;
        if (fmt.byteRate !== expectedRate)
          throw new AudioFormatError(
            `WAV byte rate ${fmt.byteRate} does not match ${fmt.rate} Hz x ${fmt.channels} channel(s) x ${fmt.bits} bits`,
          );
        return {
          formatTag: fmt.tag,
          channels: fmt.channels,
          sampleRate: fmt.rate,
          bitsPerSample: fmt.bits,
          dataBytes: size,
          durationMs: (size * 1000) / expectedRate,
        };
      }
      off = body + size + (size & 1);
    }
    throw new AudioFormatError(fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
  } finally {
    await fh.close();
  }
}
