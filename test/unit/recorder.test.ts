// The recorder's promise: a call's recording reaches the catalog once, whatever crashed when.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, PathOutsideRootError, Recorder, realFileInsideRoot } from '../../src/recordings';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { catalogLocation } from '../support/pg';

const AST = '/var/spool/asterisk/monitor';
let root: string;
let catalog: Catalog;
const logs: Record<string, unknown>[] = [];
const log = createLogger('debug', { write: (l: string) => void logs.push(JSON.parse(l)) });

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'dc-recorder-'));
  catalog = await Catalog.open(await catalogLocation(root));
  logs.length = 0;
});
afterEach(async () => {
  await catalog.close();
  rmSync(root, { recursive: true, force: true });
});

const recorder = (active: string[] = []) =>
  new Recorder({
    catalog,
    root,
    asteriskDir: AST,
    routes: [{ name: 'crm', kind: 'webhook', target: 'http://127.0.0.1:9/x' }],
    log,
    isActive: (u) => active.includes(u),
    recoverDays: 2,
  });

const day = () => {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())}`;
};

/** A closed MixMonitor file of our naming, modified `ageMs` ago. */
function wavFile(uniqueid: string, samples: number, ageMs = 60_000, dnis = '4175551234'): string {
  const rel = `${day()}/20261201-090000-2125550100-${dnis}-${uniqueid}.wav`;
  mkdirSync(join(root, day()), { recursive: true });
  const abs = join(root, rel);
  writeFileSync(abs, encodeWav(new Int16Array(samples).fill(300), 8000));
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(abs, t, t);
  return rel;
}

test('write ahead, then a crash: the next start completes the row once, from the closed file', async () => {
  const rel = wavFile('1764579600.1', 8000);
  await recorder().callStarted({ uniqueid: '1764579600.1', ani: '2125550100', dnis: '4175551234', file: `${AST}/${rel}` });
  expect(await catalog.openRecordings()).toHaveLength(1);
  expect(await catalog.listRecordings()).toHaveLength(0); // not shown while it is being recorded
  // "restart": a new recorder over the same catalog
  const r = recorder();
  expect(await r.sweep()).toEqual({ completed: 1, recovered: 0, noAudio: 0 });
  expect(await r.sweep()).toEqual({ completed: 0, recovered: 0, noAudio: 0 });
  const [rec] = await catalog.listRecordings();
  expect(rec).toMatchObject({ uniqueid: '1764579600.1', state: 'complete', recovered: true, durationMs: 1000, path: rel });
  expect(await catalog.deliveriesOf(rec!.id)).toHaveLength(1);
});

test('a call still served here, or a file still being written, is left alone by the sweep', async () => {
  const rel = wavFile('1764579600.2', 8000);
  const r = recorder(['1764579600.2']);
  await r.callStarted({ uniqueid: '1764579600.2', ani: '1', dnis: '4175551234', file: `${AST}/${rel}` });
  expect(await r.sweep()).toEqual({ completed: 0, recovered: 0, noAudio: 0 });
  // open file: MixMonitor's header says 0 bytes until it closes it
  const open = wavFile('1764579600.3', 8000);
  const buf = encodeWav(new Int16Array(8000), 8000);
  buf.writeUInt32LE(0, 4);
  buf.writeUInt32LE(0, 40);
  writeFileSync(join(root, open), buf);
  const t = (Date.now() - 60_000) / 1000;
  utimesSync(join(root, open), t, t);
  expect(await recorder(['1764579600.2']).sweep()).toEqual({ completed: 0, recovered: 0, noAudio: 0 });
  // a file closed a moment ago may still be on its way through the hangup: not yet
  wavFile('1764579600.4', 8000, 0);
  expect(await recorder(['1764579600.2']).sweep()).toEqual({ completed: 0, recovered: 0, noAudio: 0 });
});

test('a file of our naming with no row at all is catalogued once, marked recovered', async () => {
  const rel = wavFile('1764579600.5', 16000, 60_000, '3125550000');
  writeFileSync(join(root, day(), 'someone-elses.wav'), 'x');
  expect(await recorder().sweep()).toEqual({ completed: 0, recovered: 1, noAudio: 0 });
  expect(await recorder().sweep()).toEqual({ completed: 0, recovered: 0, noAudio: 0 });
  expect(await catalog.listRecordings()).toEqual([
    expect.objectContaining({
      uniqueid: '1764579600.5',
      ani: '2125550100',
      dnis: '3125550000',
      recovered: true,
      path: rel,
      durationMs: 2000,
    }),
  ]);
});

test('a call with no audio (MixMonitor closed a bare header) is catalogued as no_audio at once, nothing delivered, no retries', async () => {
  const rel = wavFile('1764579600.6', 0, 0);
  const r = recorder();
  await r.callStarted({ uniqueid: '1764579600.6', ani: '1', dnis: '4175551234', file: `${AST}/${rel}` });
  r.callFinished({ uniqueid: '1764579600.6', ani: '1', dnis: '4175551234', file: `${AST}/${rel}`, source: 'ari' });
  await r.stop(5000);
  const [rec] = await catalog.listRecordings();
  expect(rec).toMatchObject({ state: 'no_audio', durationMs: 0 });
  expect(await catalog.deliveriesOf(rec!.id)).toEqual([]);
  expect(logs.filter((l) => (l.level as number) >= 40)).toEqual([]);
});

test('a recording that does not exist is a permanent failure: one warning, the written-ahead row closed, no retries', async () => {
  const r = recorder();
  const file = `${AST}/${day()}/20261201-090000-1-4175551234-1764579600.7.wav`;
  await r.callStarted({ uniqueid: '1764579600.7', ani: '1', dnis: '4175551234', file });
  const t0 = Date.now();
  (r as unknown as { o: { closeTimeoutMs?: number } }).o.closeTimeoutMs = 1000;
  r.callFinished({ uniqueid: '1764579600.7', ani: '1', dnis: '4175551234', file, source: 'ari' });
  await r.stop(5000);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual(['recording cannot be catalogued']);
  expect(await catalog.listRecordings()).toEqual([expect.objectContaining({ uniqueid: '1764579600.7', state: 'no_audio' })]);
});

test('the same call reported twice (hangup and sweep, or two AGI reports) is catalogued once', async () => {
  const rel = wavFile('1764579600.8', 8000);
  const r = recorder();
  const call = { uniqueid: '1764579600.8', ani: '1', dnis: '4175551234', file: `${AST}/${rel}`, source: 'agi' as const };
  r.callFinished(call);
  r.callFinished(call);
  await Promise.all([r.sweep(), r.stop(5000)]);
  expect(await catalog.listRecordings()).toHaveLength(1);
});

test('a symbolic link in the spool to a file outside it is refused: not catalogued, not served', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'dc-outside-'));
  try {
    writeFileSync(join(outside, 'secret.wav'), encodeWav(new Int16Array(8000), 8000));
    mkdirSync(join(root, day()), { recursive: true });
    const rel = `${day()}/20261201-090000-2125550100-4175551234-1764579600.9.wav`;
    symlinkSync(join(outside, 'secret.wav'), join(root, rel));
    const r = recorder();
    r.callFinished({ uniqueid: '1764579600.9', ani: '1', dnis: '4175551234', file: `${AST}/${rel}`, source: 'agi' });
    await r.stop(5000);
    expect(await catalog.listRecordings()).toEqual([]);
    expect(logs.find((l) => l.msg === 'recording cannot be catalogued')?.err).toMatch(/leads outside the recordings root/);
    expect(() => realFileInsideRoot(root, rel)).toThrow(PathOutsideRootError);
    // a directory of links is no way round it either
    symlinkSync(outside, join(root, 'linked-dir'));
    expect(() => realFileInsideRoot(root, 'linked-dir/secret.wav')).toThrow(PathOutsideRootError);
    expect(realFileInsideRoot(root, wavFile('1764579600.10', 800))).toMatch(/1764579600\.10\.wav$/);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});
