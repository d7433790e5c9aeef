import { decodeAlaw, decodeUlaw } from './g711';

/** Decoded audio: mono PCM16 at its sample rate. */
export interface Pcm {
  sampleRate: number;
  samples: Int16Array;
}

export interface WavInfo extends Pcm {
  /** WAVE format tag: 1 PCM, 6 A-law, 7 mu-law. */
  formatTag: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes of audio the data chunk declares. */
  dataBytes: number;
  /** The declared data size did not match the file (a recorder still writing, or a truncated file). */
  truncated: boolean;
}

export class AudioFormatError extends Error {
  override name = 'AudioFormatError';
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_ULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

export interface WavFormat {
  tag: number;
  channels: number;
  rate: number;
  byteRate: number;
  bits: number;
}

/**
 * Where the audio is: the fmt chunk and the data chunk's offset and declared size. Chunks are walked by their
 * sizes, so LIST/fact chunks before 'data' are skipped. `head` may be only the start of the file.
 */
export function wavLayout(head: Buffer): { fmt: WavFormat; dataOffset: number; dataSize: number } {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
    throw new AudioFormatError('not a WAV file (no RIFF/WAVE header)');
  }
  let off = 12;
  let fmt: WavFormat | undefined;
  while (off + 8 <= head.length) {
    const id = head.toString('ascii', off, off + 4);
    const size = head.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.length) throw new AudioFormatError('WAV fmt chunk too short');
      let tag = head.readUInt16LE(body);
      if (tag === FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= head.length) tag = head.readUInt16LE(body + 24);
      fmt = {
        tag,
        channels: head.readUInt16LE(body + 2),
        rate: head.readUInt32LE(body + 4),
        byteRate: head.readUInt32LE(body + 8),
        bits: head.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new AudioFormatError('WAV data chunk before fmt chunk');
      return { fmt, dataOffset: body, dataSize: size };
    }
    off = body + size + (size & 1);
  }
  throw new AudioFormatError(fmt ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

/** The encodings, channel counts and rates this project reads; anything else is named. */
export function checkWavFormat({ tag, channels, rate, bits }: WavFormat): void {
  if (channels < 1 || channels > 8) throw new AudioFormatError(`unsupported channel count ${channels}`);
  if (rate < 4000 || rate > 192000) throw new AudioFormatError(`unsupported sample rate ${rate}`);
  const ok = (tag === FORMAT_PCM && (bits === 16 || bits === 8)) || ((tag === FORMAT_ULAW || tag === FORMAT_ALAW) && bits === 8);
  if (!ok) throw new AudioFormatError(`unsupported WAV encoding (format tag ${tag}, ${bits} bits): use PCM 16-bit, mu-law or A-law`);
}

/** Reads a RIFF/WAVE file: PCM 16-bit, mu-law or A-law, any rate; multi-channel is mixed down to mono. */
export function parseWav(buf: Buffer): WavInfo {
  const { fmt, dataOffset, dataSize } = wavLayout(buf);
  const available = buf.length - dataOffset;
  const dataBytes = Math.min(dataSize, available);
  return decode(buf.subarray(dataOffset, dataOffset + dataBytes), fmt, dataSize, dataSize > available);
}

function decode(data: Buffer, fmt: WavFormat, declared: number, truncated: boolean): WavInfo {
  checkWavFormat(fmt);
  const { tag, channels, rate, bits } = fmt;
  let interleaved: Int16Array;
  if (tag === FORMAT_PCM && bits === 16) {
    const n = Math.floor(data.length / 2);
    interleaved = new Int16Array(n);
    for (let i = 0; i < n; i++) interleaved[i] = data.readInt16LE(i * 2);
  } else if (tag === FORMAT_PCM && bits === 8) {
    interleaved = Int16Array.from(data, (b) => (b - 128) << 8);
  } else if (tag === FORMAT_ULAW && bits === 8) {
    interleaved = decodeUlaw(data);
  } else {
    interleaved = decodeAlaw(data); // checkWavFormat let only A-law through here
  }
  const samples = channels === 1 ? interleaved : mixDown(interleaved, channels);
  return { sampleRate: rate, samples, formatTag: tag, channels, bitsPerSample: bits, dataBytes: declared, truncated };
}

function mixDown(x: Int16Array, channels: number): Int16Array {
  const frames = Math.floor(x.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += x[f * channels + c]!;
    out[f] = Math.round(s / channels);
  }
  return out;
}

/** A 16-bit mono PCM WAV file (for tests, demos and converted output). */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(FORMAT_PCM, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i]!, 44 + i * 2);
  return buf;
}
