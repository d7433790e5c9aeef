import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DECISION_CODES, type CpaEvent } from '..';
import { analyseFile } from './analyse-file';

// Scores the engine on a labelled corpus in the cpa-dev manifest format (see the corpus README):
// each case names a wav file, its class, the expected primary decision, beep end time and DTMF digits.

export interface ManifestCase {
  id: string;
  file: string;
  class: string;
  kind?: string;
  expected: string;
  alt?: string | null;
  beeps?: { start_ms: number; end_ms: number }[];
  beep_end_ms?: number | null;
  dtmf?: string;
  first_speech_ms?: [number, number] | null;
}

export interface CaseResult {
  id: string;
  class: string;
  kind?: string;
  expected: string;
  got: string;
  correct: boolean;
  decision_ms: number | null;
  had_beep: boolean;
  beep_error_ms?: number;
  false_beep?: boolean;
  dtmf_expected?: string;
  dtmf_got?: string;
  events: CpaEvent[];
}

const DECISIONS = new Set(DECISION_CODES);
const HUMAN = new Set(['LV', 'DTMF']);

export function pct(a: number[], q: number): number | null {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function scoreCase(c: ManifestCase, events: CpaEvent[]): CaseResult {
  const dec = events.find((e) => e.decision || DECISIONS.has(String(e.result)));
  const got = dec ? String(dec.result) : 'none';
  const r: CaseResult = {
    id: c.id,
    class: c.class,
    kind: c.kind,
    expected: c.expected,
    got,
    correct: got === c.expected || (c.alt != null && got === c.alt),
    decision_ms: dec?.at_ms ?? null,
    had_beep: !!(c.beeps?.length && c.beep_end_ms != null),
    events,
  };
  const bps = events.filter((e) => e.result === 'BP');
  if (r.had_beep) {
    const lo = c.beeps![0]!.start_ms - 100;
    const hi = c.beep_end_ms! + 1000;
    const inWin = bps.find((e) => e.at_ms >= lo && e.at_ms <= hi);
    if (inWin) r.beep_error_ms = inWin.at_ms - c.beep_end_ms!;
  } else if (bps.length) {
    r.false_beep = true;
  }
  const digits = events
    .filter((e) => e.result === 'DTMF')
    .map((e) => e.digit ?? '')
    .join('');
  if (c.dtmf) r.dtmf_expected = c.dtmf.toUpperCase();
  if (c.dtmf || digits) r.dtmf_got = digits;
  return r;
}

export interface Report {
  cases: number;
  accuracy: number;
  humansCalledMachine: number;
  machinesCalledHuman: number;
  confusion: Record<string, Record<string, number>>;
  decisionMs: Record<'LV' | 'AM' | 'FX' | 'SIT', { p50: number | null; p90: number | null; n: number }>;
  beep: { cases: number; recall: number; errP50: number | null; errP90: number | null; falseOnLive: number; liveCases: number };
  dtmf: { cases: number; exact: number; talkOff: number };
  results: CaseResult[];
}

export function summarise(results: CaseResult[]): Report {
  const confusion: Record<string, Record<string, number>> = {};
  const lat: Record<string, number[]> = { LV: [], AM: [], FX: [], SIT: [] };
  let humans = 0;
  let humansAM = 0;
  let machines = 0;
  let machinesLV = 0;
  let beepCases = 0;
  let beepFound = 0;
  let live = 0;
  let falseLive = 0;
  let dCases = 0;
  let dExact = 0;
  let talkOff = 0;
  const beepErr: number[] = [];
  for (const r of results) {
    (confusion[r.class] ??= {})[r.got] = (confusion[r.class]![r.got] ?? 0) + 1;
    if (HUMAN.has(r.class)) {
      humans++;
      if (r.got === 'AM') humansAM++;
    }
    if (r.class === 'AM') {
      machines++;
      if (r.got === 'LV') machinesLV++;
    }
    if (r.correct && r.decision_ms != null && r.class !== 'SILENCE' && lat[r.got]) lat[r.got]!.push(r.decision_ms);
    if (r.had_beep) beepCases++;
    if (r.beep_error_ms !== undefined) {
      beepFound++;
      beepErr.push(Math.abs(r.beep_error_ms));
    }
    if (r.class === 'LV') {
      live++;
      if (r.false_beep) falseLive++;
    }
    if (r.dtmf_expected) {
      dCases++;
      if (r.dtmf_got === r.dtmf_expected) dExact++;
    } else if (r.dtmf_got) talkOff++;
  }
  const correct = results.filter((r) => r.correct).length;
  const pc = (a: number, b: number) => (b ? (100 * a) / b : 0);
  const d = (k: string) => ({ p50: pct(lat[k]!, 0.5), p90: pct(lat[k]!, 0.9), n: lat[k]!.length });
  return {
    cases: results.length,
    accuracy: pc(correct, results.length),
    humansCalledMachine: pc(humansAM, humans),
    machinesCalledHuman: pc(machinesLV, machines),
    confusion,
    decisionMs: { LV: d('LV'), AM: d('AM'), FX: d('FX'), SIT: d('SIT') },
    beep: {
      cases: beepCases,
      recall: pc(beepFound, beepCases),
      errP50: pct(beepErr, 0.5),
      errP90: pct(beepErr, 0.9),
      falseOnLive: falseLive,
      liveCases: live,
    },
    dtmf: { cases: dCases, exact: dExact, talkOff },
    results,
  };
}

/** Runs every case of a manifest (optionally those whose id/kind/class matches `only`). */
export function evaluateManifest(manifestPath: string, params: Record<string, unknown>, only?: RegExp): Report {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { cases?: ManifestCase[] };
  if (!Array.isArray(manifest.cases)) throw new Error(`${manifestPath}: no "cases" array (see the cpa-dev manifest format)`);
  const dir = dirname(manifestPath);
  const cases = manifest.cases.filter((c) => !only || only.test(c.id) || only.test(c.kind ?? '') || only.test(c.class));
  const results = cases.map((c) => scoreCase(c, analyseFile(join(dir, c.file), params)));
  return summarise(results);
}

export function formatReport(r: Report): string {
  const f1 = (x: number | null) => (x == null ? '-' : x.toFixed(1));
  const f0 = (x: number | null) => (x == null ? '-' : String(Math.round(x)));
  const lines = [
    `cases ${r.cases}   accuracy ${f1(r.accuracy)} %   humans called machine ${f1(r.humansCalledMachine)} %   machines called human ${f1(r.machinesCalledHuman)} %`,
    'confusion (class -> primary decision):',
    ...Object.entries(r.confusion).map(
      ([k, v]) =>
        `  ${k.padEnd(8)} ${Object.entries(v)
          .map(([g, n]) => `${g}:${n}`)
          .join('  ')}`,
    ),
    'decision time of correct decisions, ms from answer (p50 / p90, n):',
    ...(['LV', 'AM', 'FX', 'SIT'] as const).map(
      (k) => `  ${k.padEnd(4)} ${f0(r.decisionMs[k].p50)} / ${f0(r.decisionMs[k].p90)}   n=${r.decisionMs[k].n}`,
    ),
    `beep: recall ${f1(r.beep.recall)} % of ${r.beep.cases}   |BP - beep end| p50 ${f0(r.beep.errP50)} ms  p90 ${f0(r.beep.errP90)} ms   false beeps on live calls ${r.beep.falseOnLive}/${r.beep.liveCases}`,
    `DTMF: exact ${r.dtmf.exact}/${r.dtmf.cases}   digits on non-DTMF cases ${r.dtmf.talkOff}`,
  ];
  return lines.join('\n');
}
