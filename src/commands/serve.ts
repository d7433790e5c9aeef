import { loadConfig } from '../config';
import { createLogger } from '../log';
import { startService } from '../serve';
import type { Command } from './command';

export const serve: Command = {
  name: 'serve',
  summary: 'run the service: ARI Stasis app, FastAGI door, recordings portal, delivery outbox, connectivity monitor',
  usage: 'dialplan-companion serve [--config FILE]',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG); environment variables override it
Stops cleanly on SIGINT/SIGTERM: calls in progress are hung up and their bridges destroyed.`,
  options: { config: { type: 'string' } },
  async run(values) {
    const cfg = loadConfig({ file: values.config as string | undefined });
    const log = createLogger(cfg.log.level);
    const svc = await startService(cfg, log);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        log.info({ signal: sig }, 'stopping');
        svc.stop().finally(resolve);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    return 0;
  },
};
