import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../log';
import { startService } from '../serve';
import type { Command } from './command';

const STOP_BOUND_MS = 15_000;
// A uniqueid (epoch.sequence) in an error's text: which call an unhandled rejection belongs to.
const UNIQUEID = /\b(\d{9,11}\.\d+)/;

export const serve: Command = {
  name: 'serve',
  summary: 'run the service: ARI Stasis app, FastAGI door, recordings portal, delivery outbox, connectivity monitor',
  usage: 'dialplan-companion serve [--config FILE]',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG); environment variables override it
Exits 78 on a bad configuration and 1 when a part cannot start (a port in use, a catalog directory that is
read-only or full), naming the part and the system's reason.
SIGTERM (systemd stop/restart) stops within 15 s and leaves calls in progress up: Asterisk keeps recording them
and the next start takes them over and catalogues them. SIGINT (Ctrl-C) hangs them up.`,
  options: { config: { type: 'string' } },
  async run(values) {
    const cfg = loadConfig({ file: values.config as string | undefined });
    const log = createLogger(cfg.log.level);
    // The last guard, not the fix: a promise nobody awaited must not take every call down with it.
    process.on('unhandledRejection', (reason: unknown) => {
      const err = reason instanceof Error ? reason : new Error(String(reason));
      log.error(
        { err: err.message, stack: err.stack, uniqueid: UNIQUEID.exec(err.message)?.[1] },
        'unhandled rejection (a defect: please report it)',
      );
    });
    let svc;
    try {
      svc = await startService(cfg, log);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      log.fatal({ err: (e as Error).message }, 'cannot start');
      process.stderr.write(`dialplan-companion serve: cannot start: ${(e as Error).message}\n`);
      // Whatever was opened before the failure must not keep a half-started process alive for systemd.
      process.exit(1);
    }
    const running = svc;
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        const keepCalls = sig === 'SIGTERM';
        log.info({ signal: sig, keepCalls }, 'stopping');
        // Bounded: whatever is not finished by then, the next start finishes (rows written ahead, takeover).
        const cap = setTimeout(() => {
          log.warn({ afterMs: STOP_BOUND_MS }, 'stop took too long; exiting, the next start finishes the rest');
          resolve();
        }, STOP_BOUND_MS);
        void running.stop({ keepCalls }).finally(() => {
          clearTimeout(cap);
          resolve();
        });
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    // Nothing of ours may keep the process up once stopped (a socket a stop step could not close).
    setTimeout(() => process.exit(0), 200).unref();
    return 0;
  },
};
