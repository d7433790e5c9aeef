import { writeFileSync } from 'node:fs';
import { CpaParamError, resolveParams, type CpaEvent } from '../cpa';
import { AudioFormatError } from '../media';
import { analyseFile, evaluateManifest, formatReport } from '../cpa/eval';
import { UsageError, type Command } from './command';
import { catalogLocation, loadConfig } from '../config';
import { createLogger } from '../log';
import { openWritableCatalog } from '../recordings';
import { startCpaServer } from '../cpa-server/start';

/** A bad engine parameter is a bad command line: exit 2 with the iraCPA code and the parameter's name. */
function asUsageError(e: unknown): unknown {
  return e instanceof CpaParamError ? new UsageError(`error ${e.code}: ${e.message}`) : e;
}

/**
 * The parameters to use: a named configuration from the service's config (cpa.configs, file in DC_CONFIG or
 * DC_CPA_CONFIGS) with --params on top, or --params alone.
 */
function chosenParams(values: Record<string, unknown>): Record<string, unknown> {
  const params = parseParams(values.params as string | undefined);
  const name = values.config as string | undefined;
  if (name === undefined) return params;
  const configs = loadConfig().cpa.configs;
  if (!Object.hasOwn(configs, name)) {
    const known = Object.keys(configs);
    throw new UsageError(
      `error 03: no CPA configuration '${name}' (${known.length ? `known: ${known.join(', ')}` : 'none defined: set cpa.configs in the config file or DC_CPA_CONFIGS'})`,
    );
  }
  return { ...configs[name], ...params };
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
  usage:
    'dialplan-companion cpa analyze FILE [--params JSON | --config NAME] [--json]\n       dialplan-companion cpa eval --manifest PATH [--params JSON | --config NAME] [--only REGEX] [--out FILE] [--json]\n       dialplan-companion cpa serve [--host 127.0.0.1] [--port 8765] [--config FILE]',
  help: `analyze: reads WAV (PCM16, mu-law, A-law; 8 or 16 kHz) or raw .ul/.al/.sln/.sln16 audio that starts
at the answer, and prints what the engine heard, one event per line.
eval: scores the engine on a labelled corpus (the cpa-dev manifest format: manifest.json + wav files):
accuracy, humans called machine, confusion, decision times, beep recall and timing, DTMF.

Options:
  --params JSON   engine parameters (iraCPA names, or Voxeo's maxsilence/maxtime/runtime/maskstop),
                  e.g. '{"detect_dtmf":true,"total_timeout":30000}'
  --config NAME   a named configuration (cpa.configs in the service's config, e.g. "acme/outbound");
                  --params given too override its values
  --json          analyze: one JSON object per line: {"result":"AM","at_ms":4120,...}; eval: the report as JSON
  --manifest PATH eval: the corpus manifest
  --only REGEX    eval: only cases whose id, kind or class matches
  --out FILE      eval: write every case's events and verdict as JSON

serve: the engine as an iraCPA-compatible WebSocket service (ws://HOST:PORT, wss:// with
cpa.server.tlsCertFile/tlsKeyFile): set_cpa_params saves named configurations in the catalog's database,
a CPA request followed by binary PCM16LE frames is answered with results as JSON text frames.
  --host HOST     listen address (default cpa.server.host, 127.0.0.1)
  --port PORT     listen port (default cpa.server.port, 8765; 0 = any free port, printed)
  --config FILE   serve: the service's JSON config file (also DC_CONFIG): limits, catalog, named configurations

Exit codes: 0 done, 1 bad audio file, 2 bad command line, parameter or configuration name (message names it),
78 bad service configuration.`,
  options: {
    params: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, file, ...extra] = positionals;
    if (sub === 'eval') return evalCorpus(values);
    if (sub === 'serve') {
      if (file) throw new UsageError('serve takes no FILE (--config FILE is the service configuration)');
      return serveCpa(values);
    }
    if (sub !== 'analyze' && sub !== 'analyse')
      throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: analyze, eval or serve)`);
    if (!file || extra.length) throw new UsageError('analyze takes exactly one FILE');
    let events: CpaEvent[];
    try {
      events = analyseFile(file, chosenParams(values));
    } catch (e) {
      if (e instanceof AudioFormatError) {
        process.stderr.write(`dialplan-companion cpa: ${e.message}\n`);
        return 1;
      }
      throw asUsageError(e);
    }
    for (const ev of events) {
      if (values.json) process.stdout.write(`${JSON.stringify(ev)}\n`);
      else
        process.stdout.write(
          `${String(ev.at_ms).padStart(6)} ms  ${ev.result}${ev.digit ? ` ${ev.digit}` : ''}${ev.freq_hz ? ` ${ev.freq_hz} Hz` : ''}${ev.cause ? `  (${ev.cause})` : ''}\n`,
        );
    }
    return 0;
  },
};

async function evalCorpus(values: Record<string, unknown>): Promise<number> {
  const manifest = values.manifest as string | undefined;
  if (!manifest) throw new UsageError('eval needs --manifest PATH');
  const params = chosenParams(values);
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

async function serveCpa(values: Record<string, unknown>): Promise<number> {
  const cfg = loadConfig({ file: values.config as string | undefined });
  const host = (values.host as string | undefined) ?? cfg.cpa.server.host;
  const port = values.port === undefined ? cfg.cpa.server.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: a port number 0-65535, got ${String(values.port)}`);
  const log = createLogger(cfg.log.level);
  let started;
  try {
    const catalog = await openWritableCatalog(catalogLocation(cfg));
    started = {
      catalog,
      ...(await startCpaServer({ ...cfg, cpa: { ...cfg.cpa, server: { ...cfg.cpa.server, host, port } } }, catalog, log)),
    };
  } catch (e) {
    process.stderr.write(`dialplan-companion cpa serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${started.url}\n`);
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await started.server.close();
  await started.catalog.close();
  return 0;
}
