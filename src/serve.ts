import type { Config } from './config';
import { createLogger, type Logger } from './log';
import { AriConnection, StasisApp } from './ari';

export interface Service {
  log: Logger;
  ari: AriConnection;
  stasis: StasisApp;
  stop(): Promise<void>;
}

/** Composes the service from its parts; the only place where modules meet. */
export function startService(cfg: Config, log: Logger = createLogger(cfg.log.level)): Service {
  const ari = new AriConnection({ ...cfg.ari, log: log.child({ module: 'ari' }) });
  const stasis = new StasisApp({
    ari,
    app: cfg.ari.app,
    log: log.child({ module: 'stasis' }),
    endpoint: cfg.dial.endpoint,
    dialTimeoutSec: cfg.dial.timeoutSec,
    numberPattern: new RegExp(cfg.dial.numberPattern),
  });
  log.info({ ari: cfg.ari.url, app: cfg.ari.app, endpoint: cfg.dial.endpoint }, 'starting');
  void ari.start();
  return {
    log,
    ari,
    stasis,
    async stop() {
      await stasis.shutdown().catch(() => undefined);
      ari.stop();
    },
  };
}
