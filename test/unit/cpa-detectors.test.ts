import { CpaSession, resolveParams, CpaParamError } from '../../src/cpa';
import { Signal, run, DTMF_FREQS } from '../../scripts/lib/signals';

const first = (evs: { result: string }[], code: string) =>
  evs.find((e) => e.result === code) as { result: string; at_ms: number; [k: string]: unknown } | undefined;
const decision = (evs: { result: string; decision?: unknown }[]) => evs.find((e) => e.decision)?.result;

describe('live voice and machine', () => {
  test('a short hello then silence is LV; a long greeting then a beep is AM + BP at the beep end', () => {
    const lv = run(new CpaSession(), new Signal().silence(600).speech(600).silence(4000).noise(-60).pcm());
    expect(decision(lv)).toBe('LV');
    expect(lv.filter((e) => e.result === 'BP')).toEqual([]);

    const sig = new Signal().silence(500).speech(4000).silence(400);
    const beepEnd = sig.tone(500, [1000], -18).ms;
    const am = run(new CpaSession(), sig.silence(3000).noise(-60).pcm());
    expect(decision(am)).toBe('AM');
    const bp = first(am, 'BP')!;
    expect(Math.abs(bp.at_ms - beepEnd)).toBeLessThanOrEqual(60);
    expect(bp.freq_hz).toBeGreaterThan(990);
    expect(bp.freq_hz).toBeLessThan(1010);
  });

  test('nobody speaks: LV after initial_silence_ignore + amd_time_limit', () => {
    const evs = run(new CpaSession(), new Signal().silence(6000).noise(-55).pcm());
    expect(first(evs, 'LV')!.at_ms).toBeGreaterThanOrEqual(750 + 1750);
    expect(first(evs, 'LV')!.at_ms).toBeLessThan(750 + 1750 + 600);
  });

  test('a short hello needs less silence than maxsilence; a pause after longer speech does not end the greeting', () => {
    const hello = new Signal().silence(800).speech(500);
    const helloEnd = hello.ms;
    const lv = first(run(new CpaSession(), hello.silence(3000).noise(-60).pcm()), 'LV')!;
    expect(lv.at_ms - helloEnd).toBeGreaterThanOrEqual(850);
    expect(lv.at_ms - helloEnd).toBeLessThan(1100); // maxsilence
    // A machine reading on after a 950 ms breath: with 1.5 s of speech before it, the pause is not the end.
    const am = run(new CpaSession(), new Signal().silence(300).speech(1500).silence(950).speech(2000).silence(2000).noise(-60).pcm());
    expect(decision(am)).toBe('AM');
  });

  test('line noise that starts after digital silence (media starting late) is not an utterance', () => {
    // Exact zeros until 600 ms, then a noisy line; an intercept's SIT at 2300 ms must still be heard.
    const sig = new Signal().silence(2300).tone(380, [985.2], -20).tone(380, [1370.6], -20).tone(380, [1776.7], -20).silence(2000);
    const evs = run(new CpaSession(), sig.noise(-40, 600).pcm());
    expect(decision(evs)).toBe('SIT');
    // Noise alone after the zeros: nobody spoke, so LV only after initial_silence_ignore + amd_time_limit.
    const quiet = run(new CpaSession(), new Signal().silence(6000).noise(-40, 600).pcm());
    expect(first(quiet, 'LV')!.at_ms).toBeGreaterThanOrEqual(750 + 1750);
  });

  test('frames of odd sizes and 16 kHz input give the same decision and beep time', () => {
    const make = (rate: number) => {
      const s = new Signal(rate).silence(300).speech(3500).silence(500);
      const end = s.tone(400, [850], -16).ms;
      return { pcm: s.silence(2500).noise(-60).pcm(), end };
    };
    const a = make(8000);
    const whole = run(new CpaSession(), a.pcm, a.pcm.length);
    const odd = run(new CpaSession(), a.pcm, 37);
    expect(odd.map((e) => [e.result, e.at_ms])).toEqual(whole.map((e) => [e.result, e.at_ms]));
    const b = make(16000);
    const wide = run(new CpaSession({}, 16000), b.pcm, 333);
    expect(decision(wide)).toBe('AM');
    expect(Math.abs(first(wide, 'BP')!.at_ms - b.end)).toBeLessThanOrEqual(60);
  });
});

describe('beep', () => {
  const greetingThen = (build: (s: Signal) => Signal) =>
    run(new CpaSession(), build(new Signal().silence(300).speech(3000).silence(400)).silence(2500).noise(-58).pcm());

  test.each([300, 440, 700, 1400, 2500])('a %i Hz beep after a greeting is found', (hz) => {
    expect(
      first(
        greetingThen((s) => s.tone(300, [hz], -20)),
        'BP',
      ),
    ).toBeDefined();
  });

  test('too short (60 ms), outside the band (3000 Hz) or a dual-tone ringback (440+480): no BP', () => {
    expect(
      first(
        greetingThen((s) => s.tone(60, [1000], -20)),
        'BP',
      ),
    ).toBeUndefined();
    expect(
      first(
        greetingThen((s) => s.tone(400, [3000], -20)),
        'BP',
      ),
    ).toBeUndefined();
    expect(
      first(
        greetingThen((s) => s.tone(2000, [440, 480], -20)),
        'BP',
      ),
    ).toBeUndefined();
  });

  test('a double beep is reported once, at the end of the second', () => {
    let end = 0;
    const evs = greetingThen((s) => {
      s.tone(400, [440], -20).silence(150);
      end = s.tone(400, [850], -20).ms;
      return s;
    });
    const bps = evs.filter((e) => e.result === 'BP');
    expect(bps).toHaveLength(1);
    expect(Math.abs(bps[0]!.at_ms - end)).toBeLessThanOrEqual(60);
  });

  test('a beep on a noisy line (3 dB under the noise, measured over the whole band) is still found', () => {
    const s = new Signal().silence(300).speech(3000, -20).silence(400);
    const end = s.tone(500, [1000], -34).ms;
    const evs = run(new CpaSession(), s.silence(2500).noise(-34).pcm());
    const bp = first(evs, 'BP');
    expect(bp).toBeDefined();
    expect(Math.abs(bp!.at_ms - end)).toBeLessThanOrEqual(60);
  });
});

describe('fax, modem, SIT, custom tones', () => {
  test('CED 2100 Hz is FX within 700 ms of its start; ANSam (15 Hz AM) too', () => {
    const ced = run(new CpaSession(), new Signal().silence(300).tone(3000, [2100], -15).noise(-60).pcm());
    expect(decision(ced)).toBe('FX');
    expect(first(ced, 'FX')!.at_ms).toBeLessThan(1000);
    const ansam = run(new CpaSession(), new Signal().silence(300).tone(3000, [2100], -15, { hz: 15, depth: 0.2 }).noise(-60).pcm());
    expect(decision(ansam)).toBe('FX');
  });

  test('CNG 1100 Hz 0.5 s on / 3 s off is FX', () => {
    const evs = run(
      new CpaSession(),
      new Signal().silence(200).tone(500, [1100], -18).silence(3000).tone(500, [1100], -18).silence(1000).noise(-60).pcm(),
    );
    expect(decision(evs)).toBe('FX');
  });

  test('modem answer tone 2225 Hz is MD', () => {
    expect(decision(run(new CpaSession(), new Signal().silence(200).tone(1500, [2225], -15).noise(-60).pcm()))).toBe('MD');
  });

  test.each([
    [
      'Telcordia IC',
      [
        [913.8, 274],
        [1370.6, 274],
        [1776.7, 380],
      ],
    ],
    [
      'Telcordia VC',
      [
        [985.2, 380],
        [1428.5, 274],
        [1776.7, 380],
      ],
    ],
    [
      'ITU-T',
      [
        [950, 330],
        [1400, 330],
        [1800, 330],
      ],
    ],
  ] as [string, [number, number][]][])('SIT %s', (_name, segs) => {
    const s = new Signal().silence(300);
    for (const [f, ms] of segs) s.tone(ms, [f], -18).silence(2);
    const evs = run(new CpaSession(), s.silence(200).speech(3000).silence(1000).noise(-60).pcm());
    expect(decision(evs)).toBe('SIT');
    expect(evs.filter((e) => e.result === 'BP')).toEqual([]);
  });

  test('a custom tone from `tones` is reported under its name', () => {
    const evs = run(new CpaSession({ tones: { ALARM: '1662|5' } }), new Signal().silence(300).tone(1000, [1662], -18).noise(-60).pcm());
    expect(decision(evs)).toBe('ALARM');
  });
});

describe('DTMF (Q.24)', () => {
  const dial = (digits: string, opts: { offset?: number; twistDb?: number; onMs?: number; offMs?: number } = {}) => {
    const s = new Signal().silence(300).speech(500).silence(600);
    for (const d of digits) {
      const [lo, hi] = DTMF_FREQS[d]!;
      const f = 1 + (opts.offset ?? 0);
      // twist: high group relative to low group
      s.tone(opts.onMs ?? 60, [lo * f], -16);
      const last = (s as unknown as { parts: Float64Array[] }).parts.at(-1)!;
      const hiSig = new Signal().tone(opts.onMs ?? 60, [hi * f], -16 + (opts.twistDb ?? 0)).pcm();
      for (let i = 0; i < last.length; i++) last[i] = last[i]! + hiSig[i]!;
      s.silence(opts.offMs ?? 60);
    }
    return run(new CpaSession({ detect_dtmf: true }), s.silence(1500).noise(-55).pcm())
      .filter((e) => e.result === 'DTMF')
      .map((e) => e.digit)
      .join('');
  };

  test('all 16 keys at 40 ms on / 40 ms off', () => expect(dial('0123456789*#ABCD', { onMs: 40, offMs: 40 })).toBe('0123456789*#ABCD'));
  test('frequencies 1.5 % off are accepted, 4 % off refused', () => {
    expect(dial('159#', { offset: 0.015 })).toBe('159#');
    expect(dial('159#', { offset: -0.015 })).toBe('159#');
    expect(dial('159#', { offset: 0.04 })).toBe('');
  });
  test('twist of +-4 dB accepted, 12 dB refused', () => {
    expect(dial('2580', { twistDb: 4 })).toBe('2580');
    expect(dial('2580', { twistDb: -4 })).toBe('2580');
    expect(dial('2580', { twistDb: 12 })).toBe('');
  });
  test('off by default: no digits unless detect_dtmf', () => {
    const s = new Signal().silence(300).tone(100, [697, 1209], -16).silence(2000).noise(-55).pcm();
    expect(run(new CpaSession(), s).filter((e) => e.result === 'DTMF')).toEqual([]);
  });
});

describe('parameters', () => {
  test('defaults are the iraCPA ones', () => {
    expect(resolveParams()).toMatchObject({
      amd_time_limit: 1750,
      total_timeout: 15000,
      min_ambient_energy: 200,
      initial_silence_ignore: 750,
      silence_detect_limit: 2000,
      beep_to_silence_gap: 0,
      beep_is_am: true,
      detect_dtmf: false,
      suppress_spikes: true,
      minimum_frequency: 250,
    });
  });
  test('a bad value names the parameter and its range, with error code 01', () => {
    expect(() => resolveParams({ amd_time_limit: 500 })).toThrow('amd_time_limit: must be between 1000 and 3000, got 500');
    expect(() => resolveParams({ total_timeout: 'soon' })).toThrow(/total_timeout: must be a number/);
    expect(() => resolveParams({ amd_time_lmit: 1000 })).toThrow(/unknown parameter "amd_time_lmit"/);
    expect(() => resolveParams({ tones: { FX: '2100' } })).toThrow(/tones\.FX: must be "frequency\|tolerance"/);
    expect(() => resolveParams({ break_events: ['LV', 'XX'] })).toThrow(/break_events: unknown event "XX"/);
    try {
      resolveParams({ silence_detect_limit: 500 });
    } catch (e) {
      expect(e).toBeInstanceOf(CpaParamError);
      expect((e as CpaParamError).code).toBe('01');
    }
    expect(resolveParams({ silence_detect_limit: 0 }).silence_detect_limit).toBe(0);
  });
  test('Voxeo names: maxsilence/maxtime/runtime/maskstop, and Voxeo result names', () => {
    expect(resolveParams({ maxtime: 5000, runtime: 20000, maskstop: 'human,machine' })).toMatchObject({
      maxtime: 5000,
      total_timeout: 20000,
      break_events: ['LV', 'AM'],
    });
    const evs = run(new CpaSession({ voxeo_results: true }), new Signal().silence(500).speech(600).silence(3000).noise(-60).pcm());
    expect(evs[0]!.result).toBe('human');
  });
  test('maskevent (report_events) reports only the chosen events; the analysis is the same', () => {
    const pcm = new Signal().silence(500).speech(4000).silence(400).tone(500, [1000], -18).silence(3000).noise(-60).pcm();
    const all = run(new CpaSession(), pcm);
    expect(all.map((e) => e.result)).toEqual(expect.arrayContaining(['AM', 'BP']));
    const onlyBeep = run(new CpaSession({ maskevent: 'beep' }), pcm);
    expect(onlyBeep).toEqual(all.filter((e) => e.result === 'BP'));
    expect(() => resolveParams({ maskevent: ['LV', 'HELLO'] })).toThrow(/report_events: unknown event "HELLO"/);
  });
  test('break_events stop the session: nothing after the break event', () => {
    const s = new CpaSession({ break_events: ['LV'] });
    const evs = run(s, new Signal().silence(500).speech(600).silence(5000).noise(-60).pcm());
    expect(evs.map((e) => e.result)).toEqual(['LV']);
    expect(s.done).toBe(true);
  });
});
