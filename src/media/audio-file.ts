import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { decodeAlaw, decodeUlaw } from './g711';
import { parseWav, AudioFormatError, type Pcm } from './wav';

// Far more than any call (an 8 kHz mu-law hour is 29 MB): a device or a runaway file is not read whole.
const MAX_AUDIO_BYTES = 2 * 1024 ** 3;

/**
 * Reads a recording: WAV (PCM16, mu-law, A-law), or raw headerless audio named by extension as Asterisk
 * writes it: .ul / .ulaw / .pcm (mu-law 8 kHz), .al / .alaw (A-law 8 kHz), .sln / .raw (PCM16LE 8 kHz),
 * .sln16 (PCM16LE 16 kHz).
 */
export function readAudioFile(path: string): Pcm {
  let buf: Buffer;
  try {
    // /dev/zero would be read until memory runs out, a FIFO would block: only regular files are audio.
    const st = statSync(path);
    if (!st.isFile()) throw new AudioFormatError(`${path}: not a regular file`);
    if (st.size > MAX_AUDIO_BYTES)
      throw new AudioFormatError(`${path}: ${st.size} bytes, more than the ${MAX_AUDIO_BYTES} an audio file may have here`);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof AudioFormatError) throw e;
    throw new AudioFormatError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.wav' || buf.subarray(0, 4).toString('ascii') === 'RIFF') return parseWav(buf);
  switch (ext) {
    case '.ul':
    case '.ulaw':
    case '.pcm':
      return { sampleRate: 8000, samples: decodeUlaw(buf) };
    case '.al':
    case '.alaw':
      return { sampleRate: 8000, samples: decodeAlaw(buf) };
    case '.sln':
    case '.raw':
    case '.sln16': {
      if (buf.length % 2) throw new AudioFormatError(`${path}: odd byte count for 16-bit samples`);
      const samples = new Int16Array(buf.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
      return { sampleRate: ext === '.sln16' ? 16000 : 8000, samples };
    }
    default:
      throw new AudioFormatError(`${path}: unknown audio type "${ext || '(none)'}" (use .wav, .ul, .al, .sln or .sln16)`);
  }
}
