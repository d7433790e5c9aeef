import { open } from 'node:fs/promises';
import { AudioFormatError, checkWavFormat, wavLayout } from './wav';

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
    const { fmt, dataOffset, dataSize } = wavLayout(head);
    const available = st.size - dataOffset;
    if (dataSize > available)
      throw new AudioFormatError(
        `the WAV header declares ${dataSize} bytes of audio but the file holds ${available} (truncated, or still being written)`,
      );
    checkWavFormat(fmt);
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
      dataBytes: dataSize,
      durationMs: (dataSize * 1000) / expectedRate,
    };
  } finally {
    await fh.close();
  }
}
