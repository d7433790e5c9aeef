import { ConfigError, type Config } from './config';
import { createLogger, type Logger } from './log';
import { AriConnection, StasisApp } from './ari';
import { CpaParamError, resolveParams, type CpaParams } from './cpa';
import { RtpReceiver } from './media';

export interface Service {
  log: Logger;
  ari: AriConnection;
  stasis: StasisApp;
  rtp: RtpReceiver | undefined;
  /** host:port of the RTP socket externalMedia sends to ('' when CPA is off). */
  rtpTarget: string;
  stop(): Promise<void>;
}

/** The engine's parameters from the config, validated by the engine (the error names cpa.params.<name>). */
function cpaParams(cfg: Config): CpaParams {
  try {
    return resolveParams(cfg.cpa.params);
  } catch (e) {
    if (e instanceof CpaParamError) throw new ConfigError([`cpa.params (DC_CPA_PARAMS): ${e.message}`]);
    throw e;
  }
}

/** Composes the service from its parts; the only place where modules meet. */
export async function startService(cfg: Config, log: Logger = createLogger(cfg.log.level)): Promise<Service> {
  const params = cfg.cpa.enabled ? cpaParams(cfg) : undefined;
  let rtp: RtpReceiver | undefined;
  let rtpTarget = '';
  if (params) {
    rtp = new RtpReceiver();
    const bound = await rtp.listen(cfg.media.rtpHost, cfg.media.rtpPort);
    rtpTarget = `${bound.address}:${bound.port}`;
    log.info({ rtp: rtpTarget, codec: cfg.media.codec }, 'RTP receiver for the CPA tap listening');
  }
  const ari = new AriConnection({ ...cfg.ari, log: log.child({ module: 'ari' }) });
  const stasis = new StasisApp({
    ari,
    app: cfg.ari.app,
    log: log.child({ module: 'stasis' }),
    endpoint: cfg.dial.endpoint,
    dialTimeoutSec: cfg.dial.timeoutSec,
    numberPattern: new RegExp(cfg.dial.numberPattern),
    tap: params && rtp ? { receiver: rtp, rtpTarget, codec: cfg.media.codec, params, actions: cfg.cpa } : undefined,
    recording:
      cfg.recordingKeys.pause || cfg.recordingKeys.resume || cfg.recordingKeys.stop ? { keys: cfg.recordingKeys, ami: { ...cfg.ami, timeoutMs: 5000 } } : undefined,
  });
  log.info({ ari: cfg.ari.url, app: cfg.ari.app, endpoint: cfg.dial.endpoint }, 'starting');
  void ari.start();
  return {
    log,
    ari,
    stasis,
    rtp,
    rtpTarget,
    async stop() {
      await stasis.shutdown().catch(() => undefined);
      ari.stop();
      rtp?.close();
    },
  };
}
