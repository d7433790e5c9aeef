// The call picture's levels: where the audio is loud the picture is, per channel, for PCM and mu-law files;
// and a catalog made before roles existed keeps its accounts as admins.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeUlaw } from '../../src/media';
import { Catalog, MIGRATIONS } from '../../src/recordings/catalog';
import { computePicture } from '../../src/recordings/picture';

const dir = mkdtempSync(join(tmpdir(), 'dc-picture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function wav(data: Buffer, o: { channels: number; bits: number; tag: number; rate?: number }): Buffer {
  const rate = o.rate ?? 8000;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(o.tag, 20);
  h.writeUInt16LE(o.channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * o.channels * o.bits) / 8, 28);
  h.writeUInt16LE((o.channels * o.bits) / 8, 32);
  h.writeUInt16LE(o.bits, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

const tone = (n: number, amp: number) => Int16Array.from({ length: n }, (_, i) => Math.round(Math.sin(i / 3) * amp));

test('two legs: each channel its own levels; loud where the audio is, at the right time', async () => {
  // 4 s stereo: left loud in second 1, right loud in second 3, silence elsewhere
  const frames = 4 * 8000;
  const pcm = Buffer.alloc(frames * 4);
  const loud = tone(frames, 16000);
  for (let i = 0; i < frames; i++) {
    const sec = Math.floor(i / 8000);
    pcm.writeInt16LE(sec === 1 ? loud[i]! : 0, i * 4);
    pcm.writeInt16LE(sec === 3 ? loud[i]! : 0, i * 4 + 2);
  }
  const f = join(dir, 'stereo.wav');
  writeFileSync(f, wav(pcm, { channels: 2, bits: 16, tag: 1 }));
  const p = await computePicture(f, 40);
  expect(p.binMs).toBe(100);
  expect(p.levels).toHaveLength(2);
  const [left, right] = p.levels as [number[], number[]];
  expect(left).toHaveLength(40);
  expect(Math.min(...left.slice(10, 20))).toBeGreaterThan(-10); // ~-6 dBFS sine
  expect(Math.max(...left.slice(0, 10), ...left.slice(20))).toBe(-90);
  expect(Math.min(...right.slice(30, 40))).toBeGreaterThan(-10);
  expect(Math.max(...right.slice(0, 30))).toBe(-90);
});

test('mu-law mono, longer than the chunk size: one channel, the quiet and loud halves told apart', async () => {
  const n = 60 * 8000; // 60 s: several 256 KiB chunks
  const s = Int16Array.from({ length: n }, (_, i) => (i < n / 2 ? Math.round(Math.sin(i / 3) * 100) : Math.round(Math.sin(i / 3) * 20000)));
  const f = join(dir, 'ulaw.wav');
  writeFileSync(f, wav(Buffer.from(encodeUlaw(s)), { channels: 1, bits: 8, tag: 7 }));
  const p = await computePicture(f);
  expect(p.levels).toHaveLength(1);
  expect(p.binMs).toBe(120);
  const l = p.levels[0]!;
  const half = Math.floor(l.length / 2);
  expect(Math.max(...l.slice(0, half - 1))).toBeLessThan(-45);
  expect(Math.min(...l.slice(half + 1))).toBeGreaterThan(-8);
});

test('accounts made before roles existed are admins after the upgrade', async () => {
  const file = join(dir, 'old.sqlite');
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  MIGRATIONS.slice(0, 6).forEach((sql, i) => {
    db.exec(sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(i + 1, new Date().toISOString());
  });
  db.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run('olduser', 'scrypt$x', '2026-01-01T00:00:00Z');
  db.close();
  const c = await Catalog.open(file);
  try {
    expect(await c.users.get('olduser')).toMatchObject({ role: 'admin', extensions: [], disabled: false });
  } finally {
    await c.close();
  }
});
