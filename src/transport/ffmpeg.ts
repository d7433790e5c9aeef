import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { audioContentType } from '../recordings/kinds';

export type OutputFormat = 'mp3' | 'wav' | 'opus';

export class ConversionError extends Error {
  override name = 'ConversionError';
}

function executable(p: string | undefined): string | undefined {
  if (!p) return undefined;
  try {
    if (!statSync(p).isFile()) return undefined;
    accessSync(p, constants.X_OK);
    return p;
  } catch {
    return undefined;
  }
}

function fromPackage(name: string): string | undefined {
  try {
    const m = require(name) as string | { path?: string } | null;
    return executable(typeof m === 'string' ? m : m?.path);
  } catch {
    return undefined; // optional dependency absent (its install failed offline)
  }
}

/**
 * ffmpeg, in this order: FFMPEG_PATH, ffmpeg-static, @ffmpeg-installer/ffmpeg, `ffmpeg` on PATH. Each
 * candidate must exist and be executable: ffmpeg-static returns a path even when its download failed.
 */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): { path: string; from: string } {
  if (env.FFMPEG_PATH) {
    const p = executable(env.FFMPEG_PATH);
    if (!p) throw new ConversionError(`FFMPEG_PATH=${env.FFMPEG_PATH} is not an executable file`);
    return { path: p, from: 'FFMPEG_PATH' };
  }
  const stat = fromPackage('ffmpeg-static');
  if (stat) return { path: stat, from: 'ffmpeg-static' };
  // Its 2018 static build ships inside the package (works offline; has mp3, opus, mu-law, A-law). Point
  // FFMPEG_PATH at /usr/bin/ffmpeg to use a newer system build instead.
  const installer = fromPackage('@ffmpeg-installer/ffmpeg');
  if (installer) return { path: installer, from: '@ffmpeg-installer/ffmpeg' };
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .map((d) => executable(join(d, 'ffmpeg')))
    .find(Boolean);
  if (onPath) return { path: onPath, from: 'PATH' };
  throw new ConversionError('no ffmpeg found: set FFMPEG_PATH, or install ffmpeg (apt-get install ffmpeg)');
}

const CODEC_ARGS: Record<OutputFormat, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '32k'],
  wav: ['-c:a', 'pcm_s16le'],
  opus: ['-c:a', 'libopus', '-b:a', '16k'],
};

const INPUT_ARGS: Record<string, string[]> = {
  ul: ['-f', 'mulaw', '-ar', '8000', '-ac', '1'],
  ulaw: ['-f', 'mulaw', '-ar', '8000', '-ac', '1'],
  al: ['-f', 'alaw', '-ar', '8000', '-ac', '1'],
  alaw: ['-f', 'alaw', '-ar', '8000', '-ac', '1'],
  sln: ['-f', 's16le', '-ar', '8000', '-ac', '1'],
};

/** Temporary conversion directories start with this (a worker clears its own leftovers by it). */
export const CONVERT_PREFIX = 'dc-convert-';

export interface Converted {
  path: string;
  format: OutputFormat;
  /** Removes the temporary output. */
  cleanup(): void;
}

/** Converts a recording (wav, gsm, raw .ul/.al/.sln) into a temporary file; the caller cleans it up. */
export function convert(
  input: string,
  format: OutputFormat,
  opts: { ffmpeg?: string; timeoutMs?: number; tmpDir?: string } = {},
): Promise<Converted> {
  const ffmpeg = opts.ffmpeg ?? resolveFfmpeg().path;
  const dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), CONVERT_PREFIX));
  const out = join(dir, `audio.${format}`);
  const ext = input.split('.').pop()?.toLowerCase() ?? '';
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...(INPUT_ARGS[ext] ?? []),
    '-i',
    input,
    '-vn',
    ...CODEC_ARGS[format],
    '-y',
    out,
  ];
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, args, { timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      if (err) {
        cleanup();
        const why = (err as { killed?: boolean }).killed
          ? `timed out after ${opts.timeoutMs ?? 120_000} ms`
          : String(stderr).trim().split('\n').slice(-2).join(' ') || err.message;
        reject(new ConversionError(`ffmpeg could not convert ${input} to ${format}: ${why}`));
      } else {
        resolve({ path: out, format, cleanup });
      }
    });
  });
}

export const CONTENT_TYPE: Record<OutputFormat, string> = {
  mp3: audioContentType('mp3'),
  wav: audioContentType('wav'),
  opus: audioContentType('opus'),
};
