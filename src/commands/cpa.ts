import { writeFileSync } from 'node:fs';
import { CpaParamError, resolveParams, type CpaEvent } from '../cpa';
import { AudioFormatError } from '../media';
import { analyseFile, evaluateManifest, formatReport } from '../analysis';
import { UsageError, type Command } from './command';

/** A bad engine parameter is a bad command line: exit 2 with the iraCPA code and the parameter's name. */
function asUsageError(e: unknown): unknown {
  return e instanceof CpaParamError ? new UsageError(`error ${e.code}: ${e.message}`) : e;
}

function parseParams(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`--params must be a JSON object, e.g. '{"detect_dtmf":true}' (${(e as Error).message})`);
  }
}

export const cpa: Command = {
  name: 'cpa',
  summary: 'call progress analysis on a recording: live voice, machine, beep, fax, SIT, DTMF',
  usage: 'dialplan-companion cpa analyze FILE [--params JSON] [--json]\n       dialplan-companion cpa eval --manifest PATH [--params JSON] [--only REGEX] [--out FILE] [--json]',
  help: `analyze: reads WAV (PCM16, mu-law, A-law; 8 or 16 kHz) or raw .ul/.al/.sln/.sln16 audio that starts
at the answer, and prints what the engine heard, one event per line.
eval: scores the engine on a labelled corpus (the cpa-dev manifest format: manifest.json + wav files):
accuracy, humans called machine, confusion, decision times, beep recall and timing, DTMF.

Options:
  --params JSON   engine parameters (iraCPA names, or Voxeo's maxsilence/maxtime/runtime/maskstop),
                  e.g. '{"detect_dtmf":true,"total_timeout":30000}'
  --json          analyze: one JSON object per line: {"result":"AM","at_ms":4120,...}; eval: the report as JSON
  --manifest PATH eval: the corpus manifest
  --only REGEX    eval: only cases whose id, kind or class matches
  --out FILE      eval: write every case's events and verdict as JSON

Exit codes: 0 done, 1 bad audio file, 2 bad command line or parameter (message names the parameter).`,
  options: { params: { type: 'string' }, json: { type: 'boolean' }, manifest: { type: 'string' }, only: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, file, ...extra] = positionals;
    if (sub === 'eval') return evalCorpus(values);
    if (sub !== 'analyze' && sub !== 'analyse') throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: analyze or eval)`);
    if (!file || extra.length) throw new UsageError('analyze takes exactly one FILE');
    let events: CpaEvent[];
    try {
      events = analyseFile(file, parseParams(values.params as string | undefined));
    } catch (e) {
      if (e instanceof AudioFormatError) {
        process.stderr.write(`dialplan-companion cpa: ${e.message}\n`);
        return 1;
      }
      throw asUsageError(e);
    }
    for (const ev of events) {
      if (values.json) process.stdout.write(`${JSON.stringify(ev)}\n`);
      else process.stdout.write(`${String(ev.at_ms).padStart(6)} ms  ${ev.result}${ev.digit ? ` ${ev.digit}` : ''}${ev.freq_hz ? ` ${ev.freq_hz} Hz` : ''}${ev.cause ? `  (${ev.cause})` : ''}\n`);
    }
    return 0;
  },
};

async function evalCorpus(values: Record<string, unknown>): Promise<number> {
  const manifest = values.manifest as string | undefined;
  if (!manifest) throw new UsageError('eval needs --manifest PATH');
  const params = parseParams(values.params as string | undefined);
  try {
    resolveParams(params);
  } catch (e) {
    throw asUsageError(e);
  }
  const t0 = process.hrtime.bigint();
  const report = evaluateManifest(manifest, params, values.only ? new RegExp(values.only as string) : undefined);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (values.out) writeFileSync(values.out as string, JSON.stringify(report, null, 1));
  const { results, ...summary } = report;
  if (values.json) process.stdout.write(`${JSON.stringify({ ...summary, seconds })}\n`);
  else process.stdout.write(`${formatReport(report)}\n(${results.length} cases in ${seconds.toFixed(1)} s)\n`);
  return 0;
}
