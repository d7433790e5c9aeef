import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { cpaSettings, routesOf, smtpOf, type Config } from './config';
import { createLogger, type Logger } from './log';
import { AriConnection, StasisApp, ariLatencyMs, type CallSummary } from './ari';
import { amiAction } from './ami';
import { RtpReceiver } from './media';
import {
  Recorder,
  openWritableCatalog,
  signedDownloadUrl,
  startRetention,
  type Catalog,
  type DeliveryKind,
  type Recording,
} from './recordings';
import { FastAgiServer, recordingDone } from './agi';
import { OutboxWorker, emailHandler, webhookHandler, type DeliveryHandler } from './transport';
import { startMonitor, type ConnectivityMonitor } from './monitor';
import { startPortal } from './portal';
import { startCpaServer } from './cpa-server/start';
import { setCpaParams } from './cpa-server/client';
import type { CpaServer } from './cpa-server/server';
import { resolveParams, type CpaParams } from './cpa';

export interface Service {
  log: Logger;
  ari: AriConnection;
  stasis: StasisApp;
  rtp: RtpReceiver | undefined;
  /** host:port of the RTP socket externalMedia sends to ('' when CPA is off). */
  rtpTarget: string;
  catalog: Catalog;
  outbox: OutboxWorker;
  recorder: Recorder;
  /** The portal's base URL (http://127.0.0.1:8080 by default). */
  portalUrl: string;
  /** Outage log keeper (undefined when monitor.enabled is false). */
  monitor: ConnectivityMonitor | undefined;
  /** The FastAGI server ('' when off), e.g. agi://127.0.0.1:4573. */
  agiUrl: string;
  agi: FastAgiServer | undefined;
  /** The CPA WebSocket server ('' / undefined when cpa.server.enabled is false), e.g. ws://127.0.0.1:8765. */
  cpaServerUrl: string;
  cpaServer: CpaServer | undefined;
  stop(): Promise<void>;
}

/** A part of the service could not start: which part, and the system's own reason. */
export class StartupError extends Error {
  override name = 'StartupError';
  readonly code = 'STARTUP_FAILED';
}

type Stop = () => Promise<void> | void;

/** Starts one part; a failure names the part. */
async function part<T>(what: string, start: () => Promise<T> | T): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if (e instanceof StartupError) throw e;
    throw new StartupError(`${what}: ${(e as Error).message}`);
  }
}

function transportHandlers(cfg: Config, link: (rec: Recording) => string): Partial<Record<DeliveryKind, DeliveryHandler>> {
  const t = cfg.transport;
  const handlers: Partial<Record<DeliveryKind, DeliveryHandler>> = {};
  if (t.webhookSecret) handlers.webhook = webhookHandler({ secret: t.webhookSecret, mode: t.webhookMode, link });
  handlers.email = emailHandler({ smtp: smtpOf(cfg), maxAttachmentBytes: t.maxAttachmentBytes, link });
  return handlers;
}

/**
 * Composes the service, in the order a call flows: the catalog, the outbox that delivers from it, the
 * recorder that fills it, the RTP socket and the Stasis app, the other doors (AGI, portal), the monitor.
 * Each start hands back its stop; they run in reverse order. Any part that cannot start stops what
 * started before it and rejects with a StartupError naming that part.
 */
export async function startService(cfg: Config, log: Logger = createLogger(cfg.log.level)): Promise<Service> {
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse().splice(0))
      await Promise.resolve(s()).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'stop step failed'));
  };
  try {
    const cpa = cpaSettings(cfg);
    const routes = routesOf(cfg);
    const rec = cfg.recordings;
    const catalog = await part('catalog', () => openWritableCatalog(rec.catalogFile));
    stops.push(() => catalog.close());
    const linkSecret = cfg.portal.linkSecret ?? randomBytes(32).toString('base64url');
    if (!cfg.portal.linkSecret)
      log.warn('portal.linkSecret (DC_LINK_SECRET) not set: download links are signed with a random key and stop working after a restart');
    const link = (r: Recording) => signedDownloadUrl(cfg.transport.publicUrl, linkSecret, r.id, cfg.portal.linkTtlHours * 3600_000);
    const outbox = await part('outbox', () => startOutbox(cfg, catalog, transportHandlers(cfg, link), log));
    stops.push(() => outbox.stop());
    // The recorder asks the Stasis app (made below) which calls it still serves.
    const calls: { app?: StasisApp } = {};
    const recorder = new Recorder({
      catalog,
      root: rec.localDir,
      asteriskDir: rec.asteriskDir,
      routes,
      log: log.child({ module: 'recordings' }),
      onRegistered: () => outbox.kick(),
      isActive: (uniqueid) => calls.app?.isActive(uniqueid) ?? false,
      recoverDays: rec.recoverFiles ? rec.recoverDays : -1,
    });
    stops.push(() => recorder.stop());
    const retention = startRetention({ catalog, root: rec.localDir, days: rec.retentionDays, log: log.child({ module: 'retention' }) });
    stops.push(() => retention.stop());

    let rtp: RtpReceiver | undefined;
    let rtpTarget = '';
    if (cpa.params) {
      const receiver = (rtp = new RtpReceiver());
      const bound = await part(`RTP socket (media.rtpHost/rtpPort ${cfg.media.rtpHost}:${cfg.media.rtpPort})`, () =>
        receiver.listen(cfg.media.rtpHost, cfg.media.rtpPort),
      );
      stops.push(() => receiver.close());
      rtpTarget = `${bound.address}:${bound.port}`;
      log.info({ rtp: rtpTarget, codec: cfg.media.codec }, 'RTP receiver for the CPA tap listening');
    }
    const ari = new AriConnection({ ...cfg.ari, log: log.child({ module: 'ari' }) });
    stops.push(() => ari.stop());
    const ami = { ...cfg.ami, timeoutMs: 5000 };
    const keys = cfg.recordingKeys;
    const stasis = (calls.app = new StasisApp({
      ari,
      app: cfg.ari.app,
      log: log.child({ module: 'stasis' }),
      endpoint: cfg.dial.endpoint,
      dialTimeoutSec: cfg.dial.timeoutSec,
      numberPattern: new RegExp(cfg.dial.numberPattern),
      tap:
        cpa.params && rtp
          ? {
              receiver: rtp,
              rtpTarget,
              codec: cfg.media.codec,
              params: cpa.params,
              actions: cfg.cpa,
              maxLagMs: cfg.cpa.maxTapLagMs,
              service: cfg.cpa.serviceUrl ? { url: cfg.cpa.serviceUrl, config: cfg.cpa.serviceConfig } : undefined,
            }
          : undefined,
      cpaConfigs: namedCpaConfigs(cpa.configs, catalog),
      backpressure: { maxConcurrentCalls: cfg.cpa.maxConcurrentCalls, maxAriLatencyMs: cfg.cpa.maxAriLatencyMs, ariLatencyMs },
      knownCall: (uniqueid) => knownCall(catalog, uniqueid, rec.asteriskDir),
      openCalls: () => catalog.openRecordings().flatMap((r) => (r.uniqueid ? [r.uniqueid] : [])),
      recording:
        keys.pause || keys.resume || keys.stop
          ? {
              keys,
              control: {
                mute: (channel, on) =>
                  amiAction(ami, { Action: 'MixMonitorMute', Channel: channel, Direction: 'both', State: on ? '1' : '0' }),
                stop: (channel) => amiAction(ami, { Action: 'StopMixMonitor', Channel: channel }),
              },
            }
          : undefined,
    }));
    stops.push(() => stasis.shutdown().catch(() => undefined));
    stasis.on(
      'call-started',
      (s: { uniqueid: string; ani: string; dnis: string; recordingFile?: string; linkedid?: string; startedAt: Date }) => {
        if (s.recordingFile) recorder.callStarted({ ...s, file: s.recordingFile });
      },
    );
    stasis.on('call-ended', (s: CallSummary) => {
      if (!s.recordingFile) return;
      recorder.callFinished({
        uniqueid: s.uniqueid,
        linkedid: s.linkedid ?? null,
        ani: s.ani,
        dnis: s.dnis,
        startedAt: s.startedAt,
        answeredAt: s.answeredAt,
        endedAt: s.endedAt,
        file: s.recordingFile,
        source: 'ari',
        cpaResult: s.cpaResult ?? null,
        cpaEvents: s.cpaEvents,
        recovered: s.adopted,
      });
    });

    let agi: FastAgiServer | undefined;
    let agiUrl = '';
    if (cfg.agi.enabled) {
      const server = (agi = new FastAgiServer({
        log: log.child({ module: 'agi' }),
        allowFrom: cfg.agi.allowFrom.length ? cfg.agi.allowFrom : undefined,
        secret: cfg.agi.secret,
        scripts: { 'recording-done': recordingDone((call) => recorder.callFinished(call)) },
      }));
      const bound = await part(`FastAGI server (agi.host/agi.port ${cfg.agi.host}:${cfg.agi.port})`, () =>
        server.listen(cfg.agi.host, cfg.agi.port),
      );
      stops.push(() => server.close());
      agiUrl = `agi://${bound.address}:${bound.port}`;
      log.info({ agi: agiUrl }, 'FastAGI server listening');
    }
    let monitor: ConnectivityMonitor | undefined;
    let cpaServer: { server: CpaServer; url: string } | undefined;
    const portal = await part(`portal (portal.host/portal.port ${cfg.portal.host}:${cfg.portal.port})`, () =>
      startPortal({
        connectivity: () => monitor?.status() ?? [],
        host: cfg.portal.host,
        port: cfg.portal.port,
        maxConnections: cfg.portal.maxConnections,
        headersTimeoutMs: cfg.portal.headersTimeoutMs,
        log: log.child({ module: 'portal' }),
        downloads: { catalog, root: rec.localDir, linkSecret },
        session: {
          secret: cfg.portal.sessionSecret ?? randomBytes(32).toString('base64url'),
          ttlMs: cfg.portal.sessionHours * 3600_000,
          secure: cfg.transport.publicUrl.startsWith('https:'),
        },
        upload: {
          root: rec.localDir,
          tokens: cfg.portal.uploadTokens,
          maxBytes: cfg.portal.maxUploadBytes,
          maxConcurrent: cfg.portal.maxConcurrentUploads,
          register: (f) =>
            recorder.registerNow({
              uniqueid: null,
              ani: f.ani,
              dnis: f.dnis,
              file: f.path,
              source: 'upload',
              endedAt: new Date(),
              complete: { durationMs: f.durationMs, format: f.format },
            }),
        },
      }),
    );
    stops.push(async () => {
      const closed = new Promise<void>((r) => portal.server.close(() => r()));
      portal.server.closeAllConnections();
      await closed;
    });
    if (cfg.cpa.server.enabled) {
      const where = `CPA server (cpa.server.host/port ${cfg.cpa.server.host}:${cfg.cpa.server.port})`;
      const started = await part(where, () => startCpaServer(cfg, catalog, log.child({ module: 'cpa-server' })));
      stops.push(() => started.server.close());
      cpaServer = started;
    }
    if (cfg.cpa.serviceUrl && cpa.params) {
      // The remote server analyses calls without cpa=NAME under serviceConfig: give it our defaults.
      const [tenant, name] = cfg.cpa.serviceConfig.split('/') as [string, string];
      const where = { cpaService: cfg.cpa.serviceUrl, config: cfg.cpa.serviceConfig };
      setCpaParams(cfg.cpa.serviceUrl, tenant, name, cfg.cpa.params).then(
        () => log.info(where, 'CPA service: default parameters saved there'),
        (e: unknown) => log.warn({ ...where, err: (e as Error).message }, 'CPA service: could not save the default parameters there'),
      );
    }
    if (cfg.monitor.enabled) {
      const m = cfg.monitor;
      const mon = (monitor = startMonitor(
        {
          intervalMs: m.intervalMs,
          timeoutMs: m.timeoutMs,
          failuresToDown: m.failuresToDown,
          alertTo: m.alertTo ?? cfg.transport.emailTo,
          smtp: smtpOf(cfg),
        },
        {
          ari: cfg.ari,
          webhooks: routes.filter((r) => r.kind === 'webhook').map((r) => r.target),
          mailRoutes: routes.some((r) => r.kind === 'email'),
          sip: m.sip,
          ping: m.ping,
          tcp: m.tcp,
        },
        catalog.outages,
        log.child({ module: 'monitor' }),
      ));
      stops.push(() => mon.stop());
    }
    // What a crash left: rows written ahead and files without rows (now), calls still up in Asterisk (at
    // each ARI connection, by the Stasis app).
    recorder.startSweeps(rec.recoverEveryMs);
    log.info(
      { ari: cfg.ari.url, app: cfg.ari.app, endpoint: cfg.dial.endpoint, routes: routes.map((r) => r.name), catalog: rec.catalogFile },
      'starting',
    );
    void ari.start();
    const cpaServerUrl = cpaServer?.url ?? '';
    return {
      log,
      ari,
      stasis,
      rtp,
      rtpTarget,
      catalog,
      outbox,
      recorder,
      portalUrl: portal.url,
      agiUrl,
      agi,
      monitor,
      cpaServerUrl,
      cpaServer: cpaServer?.server,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function startOutbox(cfg: Config, catalog: Catalog, handlers: Partial<Record<DeliveryKind, DeliveryHandler>>, log: Logger): OutboxWorker {
  const t = cfg.transport;
  const outbox = new OutboxWorker({
    catalog,
    root: cfg.recordings.localDir,
    handlers,
    format: t.format,
    log: log.child({ module: 'transport' }),
    pollMs: t.pollMs,
    concurrency: t.concurrency,
    leaseMs: t.leaseMs,
    maxAgeMs: t.maxAgeHours * 3600_000,
    baseBackoffMs: t.baseBackoffMs,
    maxBackoffMs: t.maxBackoffMs,
    workDir: join(dirname(cfg.recordings.catalogFile), 'convert-tmp'),
  });
  outbox.start();
  return outbox;
}

/** The write-ahead row of a call as the Stasis app needs it to take the call over after a restart. */
function knownCall(catalog: Catalog, uniqueid: string, asteriskDir: string) {
  const r = catalog.recordingOfCall(uniqueid);
  if (!r) return undefined;
  return {
    ani: r.ani,
    dnis: r.dnis,
    recordingFile: `${asteriskDir}/${r.path}`,
    linkedid: r.linkedid ?? undefined,
    startedAt: r.startedAt ? new Date(r.startedAt) : undefined,
  };
}

/** Named CPA configurations for live calls: the config file's, then those saved through the CPA server. */
function namedCpaConfigs(
  file: ReadonlyMap<string, CpaParams>,
  catalog: Catalog,
): { get(name: string): CpaParams | undefined; keys(): Iterable<string> } {
  return {
    get(name) {
      const fixed = file.get(name);
      if (fixed) return fixed;
      const saved = catalog.cpaConfigs.get(name);
      try {
        return saved ? resolveParams(saved.params) : undefined;
      } catch {
        return undefined; // saved under an older engine with a parameter it no longer takes
      }
    },
    keys: () => [...file.keys(), ...catalog.cpaConfigs.list().map((c) => c.key)],
  };
}
