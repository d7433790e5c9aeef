import { decodeUlaw, decodeAlaw, encodeUlaw, encodeWav, parseWav, AudioFormatError, ULAW_TO_PCM } from '../../src/media';

test('G.711 mu-law: known code points and round trip within the quantisation step', () => {
  expect(ULAW_TO_PCM[0xff]).toBe(0);
  expect(ULAW_TO_PCM[0x7f]).toBe(0);
  expect(ULAW_TO_PCM[0x00]).toBe(-32124);
  expect(ULAW_TO_PCM[0x80]).toBe(32124);
  const x = Int16Array.from([0, 100, -100, 1000, -1000, 8000, -8000, 30000, -30000]);
  const y = decodeUlaw(encodeUlaw(x));
  x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(Math.max(8, Math.abs(v) * 0.07)));
});

test('G.711 A-law: known code points', () => {
  const y = decodeAlaw(Uint8Array.from([0xd5, 0x55, 0xaa, 0x2a]));
  expect(Array.from(y)).toEqual([8, -8, 32256, -32256]);
});

test('WAV: PCM16 round trip, extra chunks skipped, truncation flagged', () => {
  const s = Int16Array.from({ length: 800 }, (_, i) => Math.round(1000 * Math.sin(i / 5)));
  const wav = encodeWav(s, 8000);
  expect(parseWav(wav)).toMatchObject({ sampleRate: 8000, channels: 1, formatTag: 1, truncated: false });
  expect(Array.from(parseWav(wav).samples)).toEqual(Array.from(s));
  const withList = Buffer.concat([
    wav.subarray(0, 36),
    Buffer.from('LIST'),
    Buffer.from([4, 0, 0, 0]),
    Buffer.from('INFO'),
    wav.subarray(36),
  ]);
  expect(parseWav(withList).samples.length).toBe(800);
  const cut = parseWav(wav.subarray(0, 44 + 100));
  expect(cut).toMatchObject({ truncated: true });
  expect(cut.samples.length).toBe(50);
});

test('WAV: bad input gets a clear error', () => {
  expect(() => parseWav(Buffer.from('hello world, not audio'))).toThrow(AudioFormatError);
  expect(() => parseWav(Buffer.from('hello world, not audio'))).toThrow(/RIFF\/WAVE/);
  const wav = encodeWav(new Int16Array(10), 8000);
  wav.writeUInt16LE(3, 20); // IEEE float
  expect(() => parseWav(wav)).toThrow(/format tag 3/);
});
