import { chmodSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg, ConversionError } from '../../src/transport';

const dir = mkdtempSync(join(tmpdir(), 'dc-ff-'));
const fake = join(dir, 'ffmpeg');
writeFileSync(fake, '#!/bin/sh\nexit 0\n');
chmodSync(fake, 0o755);
const notExec = join(dir, 'plain');
writeFileSync(notExec, 'x');

test('FFMPEG_PATH first; it must be an executable file', () => {
  expect(resolveFfmpeg({ FFMPEG_PATH: fake, PATH: '' })).toEqual({ path: fake, from: 'FFMPEG_PATH' });
  expect(() => resolveFfmpeg({ FFMPEG_PATH: notExec, PATH: '' })).toThrow(ConversionError);
  expect(() => resolveFfmpeg({ FFMPEG_PATH: join(dir, 'missing'), PATH: '' })).toThrow(/not an executable file/);
});

test('without FFMPEG_PATH: ffmpeg-static if its binary exists, then @ffmpeg-installer, then PATH', () => {
  // ffmpeg-static's download fails offline, so npm drops it: the installer's bundled binary answers.
  const r = resolveFfmpeg({ PATH: dir });
  expect(['ffmpeg-static', '@ffmpeg-installer/ffmpeg']).toContain(r.from);
  expect(r.path).not.toBe(fake);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
