import type { Config } from '../config';
import type { CpaParams } from '../cpa';
import { resolveParams } from '../cpa';
import { setCpaParams } from '../cpa-server/client';
import { cpaConfigStore } from '../cpa-server/start';
import type { Logger } from '../log';
import { amiAction, type AmiOptions } from '../ami';
import { RtpReceiver } from '../media';
import type { Catalog, Recorder } from '../recordings';
import { AriConnection, ariLatencyMs } from './ari-client';
import type { NamedCpaConfigs } from './stasis-app';
import type { CallStart, CallSummary } from './call-session';
import { StasisApp, type KnownCall } from './stasis-app';

export interface Calls {
  ari: AriConnection;
  stasis: StasisApp;
  rtp: RtpReceiver | undefined;
  /** host:port of the RTP socket externalMedia sends to ('' when CPA is off). */
  rtpTarget: string;
  stop(): Promise<void>;
}

/**
 * The *123 calls: the RTP socket the taps send to, the ARI connection and the Stasis app, wired to the
 * recorder (a row written ahead when a call starts, completed when it ends). ARI connects once started.
 */
export async function startCalls(
  cfg: Config,
  d: {
    params: CpaParams | undefined;
    catalog: Catalog;
    recorder: Recorder;
    log: Logger;
    keepCallsOnStop?: () => boolean;
  },
): Promise<Calls> {
  const { log, catalog, recorder } = d;
  let rtp: RtpReceiver | undefined;
  let rtpTarget = '';
  if (d.params) {
    rtp = new RtpReceiver();
    const bound = await rtp.listen(cfg.media.rtpHost, cfg.media.rtpPort).catch((e: Error) => {
      throw new Error(`RTP socket (media.rtpHost/rtpPort ${cfg.media.rtpHost}:${cfg.media.rtpPort}): ${e.message}`);
    });
    rtpTarget = `${bound.address}:${bound.port}`;
    log.info({ rtp: rtpTarget, codec: cfg.media.codec }, 'RTP receiver for the CPA tap listening');
  }
  const ari = new AriConnection({ ...cfg.ari, log: log.child({ module: 'ari' }) });
  const c = cfg.cpa;
  const keys = cfg.recordingKeys;
  const ami = { ...cfg.ami, timeoutMs: 5000 };
  const stasis = new StasisApp({
    ari,
    app: cfg.ari.app,
    log: log.child({ module: 'stasis' }),
    endpoint: cfg.dial.endpoint,
    dialTimeoutSec: cfg.dial.timeoutSec,
    numberPattern: new RegExp(cfg.dial.numberPattern),
    tap:
      d.params && rtp
        ? {
            ...{ receiver: rtp, rtpTarget, codec: cfg.media.codec, params: d.params, actions: c, maxLagMs: c.maxTapLagMs },
            service: c.serviceUrl ? { url: c.serviceUrl, config: c.serviceConfig } : undefined,
          }
        : undefined,
    cpaConfigs: namedCpaConfigs(cfg, catalog),
    backpressure: { maxConcurrentCalls: c.maxConcurrentCalls, maxAriLatencyMs: c.maxAriLatencyMs, ariLatencyMs },
    knownCall: (uniqueid) => knownCall(catalog, uniqueid, cfg.recordings.asteriskDir),
    writeAhead: async (s: CallStart) => {
      if (s.recordingFile) await recorder.callStarted({ ...s, file: s.recordingFile });
    },
    openCalls: async () => (await catalog.openRecordings()).flatMap((r) => (r.uniqueid ? [r.uniqueid] : [])),
    recording:
      keys.pause || keys.resume || keys.stop
        ? {
            keys,
            control: {
              mute: (ch, on) => amiAction(ami, { Action: 'MixMonitorMute', Channel: ch, Direction: 'both', State: on ? '1' : '0' }),
              stop: (ch) => amiAction(ami, { Action: 'StopMixMonitor', Channel: ch }),
            },
          }
        : undefined,
  });
  stasis.on('call-ended', (s: CallSummary) => {
    if (!s.recordingFile) return;
    const { uniqueid, ani, dnis, startedAt, answeredAt, endedAt, cpaEvents } = s;
    const extra = { linkedid: s.linkedid ?? null, cpaResult: s.cpaResult ?? null, recovered: s.adopted };
    recorder.callFinished({
      uniqueid,
      ani,
      dnis,
      startedAt,
      answeredAt,
      endedAt,
      cpaEvents,
      ...extra,
      file: s.recordingFile,
      source: 'ari',
    });
  });
  if (c.serviceUrl && d.params) void saveDefaultsRemotely(c.serviceUrl, c.serviceConfig, c.params, log);
  if (keys.pause || keys.resume || keys.stop) void warnIfAmiRefuses(ami, log);
  return {
    ari,
    stasis,
    rtp,
    rtpTarget,
    async stop() {
      if (d.keepCallsOnStop?.()) {
        const n = await stasis.detach().catch(() => 0);
        if (n) log.info({ calls: n }, 'stopping with calls up: Asterisk keeps recording them, the next start takes them over');
      } else await stasis.shutdown().catch(() => undefined);
      ari.stop();
      rtp?.close();
    },
  };
}

/** The remote CPA server analyses calls without cpa=NAME under serviceConfig: give it our defaults. */
async function saveDefaultsRemotely(url: string, config: string, params: Record<string, unknown>, log: Logger): Promise<void> {
  const [tenant, name] = config.split('/') as [string, string];
  try {
    await setCpaParams(url, tenant, name, params);
    log.info({ cpaService: url, config }, 'CPA service: default parameters saved there');
  } catch (e) {
    log.warn({ cpaService: url, config, err: (e as Error).message }, 'CPA service: could not save the default parameters there');
  }
}

/** The write-ahead row of a call as the Stasis app needs it to take the call over after a restart. */
async function knownCall(catalog: Catalog, uniqueid: string, asteriskDir: string): Promise<KnownCall | undefined> {
  const r = await catalog.recordingOfCall(uniqueid);
  if (!r) return undefined;
  return {
    ani: r.ani,
    dnis: r.dnis,
    recordingFile: `${asteriskDir}/${r.path}`,
    linkedid: r.linkedid ?? undefined,
    startedAt: r.startedAt ? new Date(r.startedAt) : undefined,
  };
}

/** Named CPA configurations for live calls: the same store the CPA server uses (the config file's, then saved ones). */
function namedCpaConfigs(cfg: Config, catalog: Catalog): NamedCpaConfigs {
  const store = cpaConfigStore(cfg, catalog);
  return {
    async get(name) {
      const c = await store.get(name);
      try {
        return c ? resolveParams(c.params) : undefined;
      } catch {
        return undefined; // saved under an older engine with a parameter it no longer takes
      }
    },
    keys: () => store.keys(),
  };
}

/**
 * The recording keys need AMI, and stock Debian has no manager user: say so at start-up, not when the first
 * caller presses *1. Not fatal: calls, recording and CPA work without it.
 */
async function warnIfAmiRefuses(ami: AmiOptions, log: Logger): Promise<void> {
  try {
    await amiAction(ami, { Action: 'Ping' });
  } catch (e) {
    log.warn(
      { ami: `${ami.host}:${ami.port}`, user: ami.username, err: (e as Error).message },
      'AMI refused: the recording keys (*1 pause, *2 resume, *3 stop) will not work; add the manager.conf user (asterisk-conf/manager.conf) or set DC_RECORDING_KEYS_PAUSE/_RESUME/_STOP to empty',
    );
  }
}
