import { CpaSession, CpaParamError, type CpaEvent } from '../cpa';
import { readAudioFile, AudioFormatError } from '../media';
import { UsageError, type Command } from './command';

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

/** Runs a file through a session in 20 ms frames, as RTP would deliver it. */
export function analyseFile(path: string, params: Record<string, unknown>): CpaEvent[] {
  const pcm = readAudioFile(path);
  if (pcm.sampleRate !== 8000 && pcm.sampleRate !== 16000) {
    throw new AudioFormatError(`${path}: ${pcm.sampleRate} Hz audio; the engine takes 8000 or 16000 Hz`);
  }
  const session = new CpaSession(params, pcm.sampleRate);
  const frame = pcm.sampleRate / 50;
  const events: CpaEvent[] = [];
  for (let i = 0; i < pcm.samples.length && !session.done; i += frame) events.push(...session.push(pcm.samples.subarray(i, i + frame)));
  events.push(...session.end());
  return events;
}

export const cpa: Command = {
  name: 'cpa',
  summary: 'call progress analysis on a recording: live voice, machine, beep, fax, SIT, DTMF',
  usage: 'dialplan-companion cpa analyze FILE [--params JSON] [--json]',
  help: `Reads WAV (PCM16, mu-law, A-law; 8 or 16 kHz) or raw .ul/.al/.sln/.sln16 audio that starts at the
answer, and prints what the engine heard, one event per line.

Options:
  --params JSON   engine parameters (iraCPA names, or Voxeo's maxsilence/maxtime/runtime/maskstop),
                  e.g. '{"detect_dtmf":true,"total_timeout":30000}'
  --json          one JSON object per line: {"result":"AM","at_ms":4120,...}

Exit codes: 0 done, 1 bad audio file, 2 bad command line or parameter (message names the parameter).`,
  options: { params: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, file, ...extra] = positionals;
    if (sub !== 'analyze' && sub !== 'analyse') throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: analyze)`);
    if (!file || extra.length) throw new UsageError('analyze takes exactly one FILE');
    let events: CpaEvent[];
    try {
      events = analyseFile(file, parseParams(values.params as string | undefined));
    } catch (e) {
      if (e instanceof AudioFormatError) {
        process.stderr.write(`dialplan-companion cpa: ${e.message}\n`);
        return 1;
      }
      if (e instanceof CpaParamError) throw new UsageError(`error ${e.code}: ${e.message}`);
      throw e;
    }
    for (const ev of events) {
      if (values.json) process.stdout.write(`${JSON.stringify(ev)}\n`);
      else process.stdout.write(`${String(ev.at_ms).padStart(6)} ms  ${ev.result}${ev.digit ? ` ${ev.digit}` : ''}${ev.freq_hz ? ` ${ev.freq_hz} Hz` : ''}${ev.cause ? `  (${ev.cause})` : ''}\n`);
    }
    return 0;
  },
};
