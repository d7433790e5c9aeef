// The CPA engine scored on labelled audio: the shared dev corpus (when present beside the repo, as in CI)
// and a held-out set generated here with espeak-ng and sox in other languages, voices and beep pitches.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateManifest } from '../../src/cpa/eval';

const REPO = join(__dirname, '..', '..');
const DEV = join(REPO, '..', 'shared', 'corpus', 'cpa-dev', 'manifest.json');
const params = { detect_dtmf: true, total_timeout: 30000 };

(existsSync(DEV) ? test : test.skip)('cpa-dev corpus: the engine meets its targets', () => {
  const r = evaluateManifest(DEV, params);
  expect(r.cases).toBe(120);
  expect(r.accuracy).toBeGreaterThanOrEqual(97);
  expect(r.humansCalledMachine).toBeLessThanOrEqual(1);
  expect(r.beep.recall).toBeGreaterThanOrEqual(99);
  expect(r.beep.errP90!).toBeLessThanOrEqual(60);
  expect(r.beep.falseOnLive).toBe(0);
  expect(r.confusion.FAX).toEqual({ FX: 10 });
  expect(r.confusion.SIT).toEqual({ SIT: 8 });
  expect(r.dtmf.exact).toBe(r.dtmf.cases);
});

test('generated calls (7 languages, espeak-ng voices; hello twice, ringback first, long greetings; sine, square, sawtooth, decaying, low, short and double beeps; SIT from the first sample; CED at 3-8 dB): no human called machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-heldout-'));
  try {
    const classes = 'LV,LV_TWICE,LV_RINGBACK,AM,AM_NOBEEP,AM_LONG,SIT,FAX';
    execFileSync('node', [join(REPO, 'dist', 'scripts', 'make-cpa-cases.js'), dir, '4', '7', classes, 'white,brown,hum'], {
      stdio: 'pipe',
    });
    const r = evaluateManifest(join(dir, 'manifest.json'), params);
    expect(r.cases).toBe(32);
    expect(r.humansCalledMachine).toBe(0);
    expect(r.accuracy).toBeGreaterThanOrEqual(93);
    expect(r.beep.recall).toBe(100);
    expect(r.beep.errP90!).toBeLessThanOrEqual(60);
    expect(r.beep.falseOnLive).toBe(0);
    expect(r.confusion.SIT).toEqual({ SIT: 4 });
    expect(r.confusion.FAX).toEqual({ FX: 4 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
