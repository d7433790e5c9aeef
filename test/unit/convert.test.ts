import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { convert, ConversionError } from '../../src/transport';
import { encodeUlaw, encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { decodedSeconds } from '../support/audio';

const dir = mkdtempSync(join(tmpdir(), 'dc-conv-'));
const pcm = new Signal().speech(2000).silence(1000).noise(-50).pcm(); // 3 s

test.each([
  ['wav', 'mp3', () => encodeWav(pcm, 8000)],
  ['ul', 'mp3', () => Buffer.from(encodeUlaw(pcm))],
  ['wav', 'opus', () => encodeWav(pcm, 8000)],
  ['ul', 'wav', () => Buffer.from(encodeUlaw(pcm))],
] as const)('%s -> %s keeps the length; the temp file is removed by cleanup()', async (ext, fmt, make) => {
  const input = join(dir, `in-${fmt}.${ext}`);
  writeFileSync(input, make());
  const out = await convert(input, fmt);
  expect(decodedSeconds(readFileSync(out.path), fmt === 'opus' ? 'ogg' : fmt)).toBeCloseTo(3, 1);
  out.cleanup();
  expect(existsSync(dirname(out.path))).toBe(false);
});

test('a broken input is a clear ConversionError, and nothing is left behind', async () => {
  const input = join(dir, 'broken.wav');
  writeFileSync(input, 'RIFF....WAVEnope');
  await expect(convert(input, 'mp3')).rejects.toThrow(ConversionError);
  await expect(convert(input, 'mp3')).rejects.toThrow(/could not convert .*broken\.wav to mp3/);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
