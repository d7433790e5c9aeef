import { randomBytes } from 'node:crypto';
import { bucketOf, catalogLocation, cpaSettings, routesOf, type Config } from './config';
import { createLogger, type Logger } from './log';
import type { AriConnection, StasisApp } from './ari';
import { startCalls, type Calls } from './ari/start';
import { Metrics, readiness, watchCalls } from './metrics';
import { resolveFfmpeg } from './transport';
import { dirname } from 'node:path';
import type { RtpReceiver } from './media';
import { Bucket, openWritableCatalog, signedDownloadUrl, type Catalog, type Recorder } from './recordings';
import { startArchiver, startRecorder } from './recordings/start';
import type { FastAgiServer } from './agi';
import { startAgi } from './agi/start';
import type { OutboxWorker } from './transport';
import { startOutbox } from './transport/start';
import { startMonitorFor, type ConnectivityMonitor } from './monitor';
import { startPortalFor } from './portal/start';
import { startCpaServer } from './cpa-server/start';
import type { CpaServer } from './cpa-server/server';

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
  /** keepCalls: leave calls up for the next start to take over (SIGTERM); otherwise hang them up. */
  stop(opts?: { keepCalls?: boolean }): Promise<void>;
}

/** A part of the service could not start: which part, and the system's own reason. */
export class StartupError extends Error {
  override name = 'StartupError';
  readonly code = 'STARTUP_FAILED';
}

/** Started parts, stopped in reverse order; a part that fails to start is named in the error. */
class Parts {
  private readonly stops: (() => Promise<void> | void)[] = [];
  constructor(private readonly log: Logger) {}

  async start<T extends { stop(): Promise<void> | void }>(what: string, start: () => Promise<T> | T): Promise<T> {
    try {
      const part = await start();
      this.stops.push(() => part.stop());
      return part;
    } catch (e) {
      throw e instanceof StartupError ? e : new StartupError(`${what}: ${(e as Error).message}`);
    }
  }

  async stopAll(): Promise<void> {
    for (const s of this.stops.reverse().splice(0))
      await Promise.resolve(s()).catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'stop step failed'));
  }
}

/**
 * Composes the service in the order a call flows: the catalog, the outbox that delivers from it, the
 * recorder that fills it, the calls (RTP, ARI, Stasis), the other doors (AGI, portal, CPA server), the
 * monitor; then the recovery sweep and the ARI connection. Any part that cannot start stops what started
 * before it and rejects with a StartupError naming that part.
 */
export async function startService(cfg: Config, log: Logger = createLogger(cfg.log.level)): Promise<Service> {
  const parts = new Parts(log);
  const stopping = { keepCalls: false };
  try {
    const cpa = cpaSettings(cfg);
    const linkSecret = cfg.portal.linkSecret ?? randomBytes(32).toString('base64url');
    if (!cfg.portal.linkSecret)
      log.warn('portal.linkSecret (DC_LINK_SECRET) not set: download links are signed with a random key and stop working after a restart');
    const link = (r: { id: string }) => signedDownloadUrl(cfg.transport.publicUrl, linkSecret, r.id, cfg.portal.linkTtlHours * 3600_000);
    const catalog = (
      await parts.start('catalog', async () =>
        withStop(
          await openWritableCatalog(catalogLocation(cfg), {
            onError: (e) => log.warn({ err: e.message }, 'catalog: database connection lost'),
          }),
          (c) => c.close(),
        ),
      )
    ).value;
    const live: { calls?: Calls; monitor?: ConnectivityMonitor } = {}; // parts made below, read when asked
    const metrics = serviceMetrics(catalog, live);
    const bucketSettings = bucketOf(cfg);
    const bucket = bucketSettings
      ? (await parts.start(`bucket (s3.bucket ${bucketSettings.bucket})`, () => withStop(new Bucket(bucketSettings), (b) => b.close())))
          .value
      : undefined;
    const { outbox } = await parts.start('outbox', () => startOutbox(cfg, catalog, link, log, (a) => countAttempt(metrics, a), bucket));
    const archive = bucket ? await parts.start('archiver', () => startArchiver(cfg, catalog, bucket, log)) : undefined;
    const isActive = (uniqueid: string) => live.calls?.stasis.isActive(uniqueid) ?? false;
    const onRegistered = (r: { source: string }) => (metrics.recordings.inc({ source: r.source }), outbox.kick(), archive?.archiver.kick());
    const recorder = await parts.start('recorder', () => startRecorder(cfg, catalog, { onRegistered, isActive, log, bucket }));
    const calls = (live.calls = await parts.start('calls', () =>
      startCalls(cfg, { params: cpa.params, catalog, recorder: recorder.recorder, log, keepCallsOnStop: () => stopping.keepCalls }),
    ));
    watchCalls(metrics, calls.stasis);
    const a = cfg.agi;
    const agi = a.enabled
      ? await parts.start(`FastAGI server (agi.host/agi.port ${a.host}:${a.port})`, () =>
          startAgi(cfg, recorder.recorder, log, (script, outcome) => metrics.agiSessions.inc({ script, outcome })),
        )
      : undefined;
    const s = cfg.cpa.server;
    const cpaServer = s.enabled
      ? await parts.start(`CPA server (cpa.server.host/port ${s.host}:${s.port})`, () =>
          startCpaServer(cfg, catalog, log.child({ module: 'cpa-server' })),
        )
      : undefined;
    const p = cfg.portal;
    const ops = {
      registry: metrics.registry,
      metricsAllowFrom: p.metricsAllowFrom,
      metricsToken: p.metricsToken,
      ready: () => ready(cfg, catalog, calls, bucket),
    };
    const connectivity = () => live.monitor?.status() ?? [];
    const onUpload = (outcome: string) => metrics.uploads.inc({ outcome });
    const portal = await parts.start(`portal (portal.host/portal.port ${p.host}:${p.port})`, () =>
      startPortalFor(cfg, { catalog, bucket, recorder: recorder.recorder, linkSecret, connectivity, log, ops, onUpload }),
    );
    if (cfg.monitor.enabled)
      live.monitor = (await parts.start('monitor', () => startMonitorFor(cfg, catalog.outages, log, bucket))).monitor;
    const monitor = live.monitor;
    recorder.sweeps(); // what a crash left: rows written ahead, files without rows; calls still up: at each ARI connection
    log.info(
      {
        ari: cfg.ari.url,
        app: cfg.ari.app,
        endpoint: cfg.dial.endpoint,
        routes: routesOf(cfg).map((r) => r.name),
        catalog: catalog.db.where,
        bucket: bucket?.where ?? null,
        instance: cfg.instance,
      },
      'starting',
    );
    void calls.ari.start();
    return {
      ...{
        log,
        ari: calls.ari,
        stasis: calls.stasis,
        rtp: calls.rtp,
        rtpTarget: calls.rtpTarget,
        catalog,
        outbox,
        recorder: recorder.recorder,
        monitor,
      },
      ...{ portalUrl: portal.url, agiUrl: agi?.url ?? '', agi: agi?.agi, cpaServerUrl: cpaServer?.url ?? '', cpaServer: cpaServer?.server },
      stop: (opts) => {
        stopping.keepCalls = opts?.keepCalls ?? false;
        return parts.stopAll();
      },
    };
  } catch (e) {
    await parts.stopAll();
    throw e;
  }
}

/** The metrics' gauges read the parts when Prometheus scrapes. */
function serviceMetrics(catalog: Catalog, live: { calls?: Calls; monitor?: ConnectivityMonitor }): Metrics {
  return new Metrics({
    activeCalls: () => live.calls?.stasis.activeCalls ?? 0,
    activeTaps: () => live.calls?.rtp?.stats.streams ?? 0,
    rtp: () => {
      const r = live.calls?.rtp;
      return { packets: r ? r.stats.datagrams - r.stats.malformed : 0, lost: r?.lost ?? 0, malformed: r?.stats.malformed ?? 0 };
    },
    deliveries: () => catalog.counts(),
    targets: () => live.monitor?.status() ?? [],
    outages: () => catalog.outages.countByTarget(),
  });
}

function countAttempt(m: Metrics, a: { kind: string; outcome: string; sinceRegisteredMs: number }): void {
  m.deliveryAttempts.inc({ kind: a.kind, outcome: a.outcome });
  if (a.outcome === 'delivered') m.deliverySeconds.observe(a.sinceRegisteredMs / 1000);
}

/** /readyz: ARI connected, the catalog writable, free space in its and the recordings' directories, ffmpeg. */
function ready(cfg: Config, catalog: Catalog, calls: Calls, bucket?: Bucket): Promise<{ ok: boolean; problems: string[] }> {
  return readiness({
    bucketWritable: bucket && (() => bucket.check()),
    ariConnected: () => calls.ari.connected,
    catalogWritable: () => catalog.checkWritable(),
    dirs: [...new Set([cfg.recordings.localDir, dirname(cfg.recordings.catalogFile)])],
    minFreeBytes: cfg.recordings.minFreeBytes,
    ffmpeg: () => void resolveFfmpeg(),
  });
}

/** A value with the stop the Parts list wants. */
function withStop<T>(value: T, stop: (v: T) => void | Promise<void>): { value: T; stop(): void | Promise<void> } {
  return { value, stop: () => stop(value) };
}
