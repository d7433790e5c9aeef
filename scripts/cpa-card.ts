// The CPA card: the reference scorer's results (../shared/corpus/evaluate.mjs --out) broken down by the
// conditions the corpus manifest records (SNR band, noise, language, talent, kind of call), as Markdown tables.
// The scorer stays the judge of each call; this only groups its verdicts.
//
//   node dist/scripts/cpa-card.js MANIFEST RESULTS [MANIFEST RESULTS ...]   (several parts are pooled)
import { readFileSync } from 'node:fs';
import { pct as quantile } from '../src/cpa/eval';

interface ManifestCase {
  id: string;
  kind?: string;
  class: string;
  expected: string;
  noise?: string;
  snr_db?: number;
  language?: string;
  talent?: string;
  beeps?: { start_ms: number; end_ms: number }[];
  utterances?: { start_ms: number; end_ms: number }[];
}
interface ScoredCase {
  id: string;
  expected: string;
  got: string;
  correct: boolean;
  decision_ms?: number;
  events: { code: string; ms: number }[];
}
interface Row {
  m: ManifestCase;
  r: ScoredCase;
}

const args = process.argv.slice(2);
if (args.length < 2 || args.length % 2) {
  process.stderr.write('usage: node dist/scripts/cpa-card.js MANIFEST RESULTS [MANIFEST RESULTS ...]\n');
  process.exit(2);
}
const rows: Row[] = [];
for (let i = 0; i < args.length; i += 2) {
  const manifest = JSON.parse(readFileSync(args[i]!, 'utf8')) as { cases: ManifestCase[] };
  const results = JSON.parse(readFileSync(args[i + 1]!, 'utf8')) as { cases: ScoredCase[] };
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  for (const r of results.cases) {
    const m = byId.get(r.id);
    if (!m) throw new Error(`${args[i + 1]}: case ${r.id} is not in ${args[i]}`);
    rows.push({ m, r });
  }
}

// quantiles as the reference scorer and `cpa eval` take them
const percent = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)} %` : '-');
const ms = (x: number | null) => (x === null ? '-' : `${Math.round(x)}`);
/** "4.9 % (7/144)", or "-" when there is nothing to count. */
const rate = ([n, d]: [number, number]) => (d ? `${percent(n, d)} (${n}/${d})` : '-');
const snrBand = (db: number | undefined) =>
  db === undefined ? '?' : db <= 5 ? '3-5 dB' : db <= 10 ? '6-10 dB' : db <= 15 ? '11-15 dB' : db <= 20 ? '16-20 dB' : '21-40 dB';
const beepHit = ({ m, r }: Row) => {
  const b = m.beeps ?? [];
  if (!b.length) return false;
  return r.events.some((e) => e.code === 'BP' && e.ms >= b[0]!.start_ms - 100 && e.ms <= b[b.length - 1]!.end_ms + 1000);
};

/** The counts every table shows, as [hits, out of]. */
function tally(g: Row[]) {
  const lv = g.filter((x) => x.r.expected === 'LV');
  const am = g.filter((x) => x.r.expected === 'AM');
  const withBeep = g.filter((x) => (x.m.beeps ?? []).length > 0);
  return {
    correct: g.filter((x) => x.r.correct).length,
    humansAsMachine: [lv.filter((x) => x.r.got === 'AM').length, lv.length] as [number, number],
    machinesAsHuman: [am.filter((x) => x.r.got === 'LV').length, am.length] as [number, number],
    beeps: [withBeep.filter(beepHit).length, withBeep.length] as [number, number],
    falseBeeps: [lv.filter((x) => x.r.events.some((e) => e.code === 'BP')).length, lv.length] as [number, number],
  };
}

function table(title: string, key: (row: Row) => string): string {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const k = key(row);
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  const lines = [
    `| ${title} | calls | correct | humans called machine | machines called human | beep recall |`,
    '|---|---|---|---|---|---|',
  ];
  for (const [k, g] of [...groups].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
    const s = tally(g);
    lines.push(
      `| ${k} | ${g.length} | ${percent(s.correct, g.length)} | ${rate(s.humansAsMachine)} | ${rate(s.machinesAsHuman)} | ${s.beeps[1] ? `${s.beeps[0]}/${s.beeps[1]}` : '-'} |`,
    );
  }
  return lines.join('\n');
}

function confusion(): string {
  const cols = ['LV', 'AM', 'FX', 'SIT', 'unknown', 'TO'];
  const classes = [...new Set(rows.map((x) => x.r.expected))].sort();
  const lines = [`| expected \\ decided | ${cols.join(' | ')} | other |`, `|---|${cols.map(() => '---|').join('')}---|`];
  for (const c of classes) {
    const g = rows.filter((x) => x.r.expected === c);
    const n = (code: string) => g.filter((x) => x.r.got === code).length;
    lines.push(`| ${c} | ${cols.map(n).join(' | ')} | ${g.filter((x) => !cols.includes(x.r.got)).length} |`);
  }
  return lines.join('\n');
}

function timing(): string {
  const correct = (code: string) => rows.filter((x) => x.r.correct && x.r.got === code && x.r.decision_ms !== undefined);
  const fromAnswer = (code: string) => correct(code).map((x) => x.r.decision_ms!);
  const afterUtterance = correct('LV')
    .filter((x) => (x.m.utterances ?? []).length > 0)
    .map((x) => x.r.decision_ms! - x.m.utterances![0]!.end_ms);
  const beepErr = rows.filter(beepHit).map(({ m, r }) => {
    const end = m.beeps![m.beeps!.length - 1]!.end_ms;
    const bp = r.events.filter((e) => e.code === 'BP').sort((a, b) => Math.abs(a.ms - end) - Math.abs(b.ms - end))[0]!;
    return Math.abs(bp.ms - end);
  });
  const amBeforeBeepEnd = rows.filter((x) => x.r.correct && x.r.got === 'AM' && (x.m.beeps ?? []).length > 0);
  const early = amBeforeBeepEnd.filter((x) => x.r.decision_ms! <= x.m.beeps![x.m.beeps!.length - 1]!.end_ms);
  return [
    '| timing (correct decisions) | p50 | p90 | n |',
    '|---|---|---|---|',
    ...['LV', 'AM', 'FX', 'SIT'].map((c) => {
      const xs = fromAnswer(c);
      return `| ${c} from the answer, ms | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.9))} | ${xs.length} |`;
    }),
    `| LV after the end of the callee's first utterance, ms | ${ms(quantile(afterUtterance, 0.5))} | ${ms(quantile(afterUtterance, 0.9))} | ${afterUtterance.length} |`,
    `| abs(BP - end of the last beep), ms | ${ms(quantile(beepErr, 0.5))} | ${ms(quantile(beepErr, 0.9))} | ${beepErr.length} |`,
    `| AM decided before the beep ended | ${percent(early.length, amBeforeBeepEnd.length)} | | ${amBeforeBeepEnd.length} |`,
  ].join('\n');
}

const all = tally(rows);
process.stdout.write(
  [
    `${rows.length} calls: correct ${percent(all.correct, rows.length)}, humans called machine ${rate(all.humansAsMachine)}, machines called human ${percent(...all.machinesAsHuman)}, beep recall ${percent(...all.beeps)}, false beeps on live calls ${percent(...all.falseBeeps)}`,
    '',
    confusion(),
    '',
    timing(),
    '',
    table('SNR', (x) => snrBand(x.m.snr_db)),
    '',
    table('noise', (x) => (x.m.noise ?? '?').replace(/:.*/, '')),
    '',
    table('language', (x) => x.m.language ?? '?'),
    '',
    table('talent', (x) => x.m.talent ?? '?'),
    '',
    table('kind', (x) => x.m.kind ?? x.m.class),
    '',
  ].join('\n'),
);
