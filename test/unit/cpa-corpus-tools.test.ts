// The corpus tools: the real-voice prompt sorter behind the generator, and the CPA card over the scorer's results.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { loadTalent } from '../../scripts/lib/voice-clips';

const dir = mkdtempSync(join(tmpdir(), 'dc-corpus-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('prompts are sorted by the shape of their audio: a short burst, a long sentence without a pause, greeting pieces', () => {
  const talent = join(dir, 'xx_XX_f_Test');
  mkdirSync(talent);
  const save = (name: string, s: Signal) => writeFileSync(join(talent, `${name}.wav`), encodeWav(s.pcm(), 8000));
  for (let i = 0; i < 5; i++)
    save(
      `short${i}`,
      new Signal()
        .silence(300)
        .speech(600 + 100 * i, -20)
        .silence(300),
    );
  save('long', new Signal().silence(200).tone(2400, [300, 600, 900], -24).silence(200));
  // 2.4 s with a 600 ms pause inside: not one breath, so not a long first sentence
  save('paused', new Signal().tone(900, [300, 600], -24).silence(600).tone(900, [300, 600], -24));
  for (let i = 0; i < 4; i++) save(`piece${i}`, new Signal().tone(3000 + 500 * i, [300, 600, 900], -24));
  save('menu', new Signal().tone(8000, [300, 600], -24)); // a long IVR menu is no greeting piece
  const t = loadTalent(dir, 'xx_XX_f_Test');
  const names = (cs: { name: string }[]) => cs.map((c) => c.name).sort();
  expect(names(t.short)).toEqual(['short0', 'short1', 'short2', 'short3', 'short4']);
  expect(names(t.long)).toEqual(['long']);
  // 0.8 s or more can be part of a greeting, a short word too
  expect(names(t.pieces)).toEqual(['long', 'paused', 'piece0', 'piece1', 'piece2', 'piece3', 'short3', 'short4']);
  const long = t.byName.get('long')!;
  expect(Math.abs(long.ms - 2400)).toBeLessThanOrEqual(20); // trimmed to the sound
  expect(t.byName.get('paused')!.maxGapMs).toBeGreaterThanOrEqual(580);
});

test('the CPA card counts the scorer`s verdicts by condition', () => {
  const cases = [
    {
      id: 'a',
      class: 'LV',
      kind: 'LV',
      expected: 'LV',
      noise: 'babble',
      snr_db: 5,
      language: 'ru',
      talent: 'T1',
      beeps: [],
      utterances: [{ start_ms: 500, end_ms: 1000 }],
    },
    {
      id: 'b',
      class: 'LV',
      kind: 'LV',
      expected: 'LV',
      noise: 'babble',
      snr_db: 20,
      language: 'ru',
      talent: 'T1',
      beeps: [],
      utterances: [{ start_ms: 500, end_ms: 1000 }],
    },
    {
      id: 'c',
      class: 'AM',
      kind: 'AM',
      expected: 'AM',
      noise: 'white',
      snr_db: 5,
      language: 'fr',
      talent: 'T2',
      beeps: [{ start_ms: 6000, end_ms: 6500 }],
      utterances: [],
    },
  ];
  const results = [
    { id: 'a', expected: 'LV', got: 'AM', correct: false, decision_ms: 3500, events: [{ code: 'AM', ms: 3500 }] },
    { id: 'b', expected: 'LV', got: 'LV', correct: true, decision_ms: 1900, events: [{ code: 'LV', ms: 1900 }] },
    {
      id: 'c',
      expected: 'AM',
      got: 'AM',
      correct: true,
      decision_ms: 4000,
      events: [
        { code: 'AM', ms: 4000 },
        { code: 'BP', ms: 6520 },
      ],
    },
  ];
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ cases }));
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ cases: results }));
  const card = join(__dirname, '..', '..', 'dist', 'scripts', 'cpa-card.js');
  const r = spawnSync(process.execPath, [card, join(dir, 'manifest.json'), join(dir, 'results.json')], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(
    '3 calls: correct 66.7 %, humans called machine 50.0 % (1/2), machines called human 0.0 %, beep recall 100.0 %',
  );
  expect(r.stdout).toContain('| 3-5 dB | 2 | 50.0 % | 100.0 % (1/1) | 0.0 % (0/1) | 1/1 |');
  expect(r.stdout).toContain('| 16-20 dB | 1 | 100.0 % | 0.0 % (0/1) | - | - |');
  expect(r.stdout).toContain("| LV after the end of the callee's first utterance, ms | 900 | 900 | 1 |");
  expect(r.stdout).toContain('| abs(BP - end of the last beep), ms | 20 | 20 | 1 |');
  // a results file that names a call the manifest does not have is refused
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ cases: [{ ...results[0], id: 'zz' }] }));
  const bad = spawnSync(process.execPath, [card, join(dir, 'manifest.json'), join(dir, 'bad.json')], { encoding: 'utf8' });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toContain('case zz is not in');
});
