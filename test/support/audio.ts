import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseWav } from '../../src/media';

/** RMS of each window of `windowMs`. */
export function windowRms(samples: Int16Array, sampleRate: number, windowMs = 100): number[] {
  const n = Math.floor((sampleRate * windowMs) / 1000);
  const out: number[] = [];
  for (let i = 0; i + n <= samples.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += samples[j]! * samples[j]!;
    out.push(Math.sqrt(e / n));
  }
  return out;
}

/** Loudest window against the quietest tenth of windows: how far sound stands above the line's floor. */
export function peakOverFloorDb(samples: Int16Array, sampleRate: number): number {
  const rms = windowRms(samples, sampleRate).sort((a, b) => a - b);
  const floor = Math.max(1, rms[Math.floor(rms.length * 0.1)] ?? 1);
  const peak = rms[rms.length - 1] ?? 0;
  return 20 * Math.log10(Math.max(peak, 1) / floor);
}

/** Decodes any audio ffmpeg reads (mp3, opus, wav) and returns its length in seconds. */
export function decodedSeconds(data: Buffer, ext: string): number {
  const dir = fs.mkdtempSync('/tmp/dc-decode-');
  try {
    fs.writeFileSync(`${dir}/in.${ext}`, data);
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      `${dir}/in.${ext}`,
      '-ac',
      '1',
      '-ar',
      '8000',
      '-c:a',
      'pcm_s16le',
      `${dir}/out.wav`,
    ]);
    const w = parseWav(fs.readFileSync(`${dir}/out.wav`));
    return w.samples.length / w.sampleRate;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
