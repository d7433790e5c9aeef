import { ConfigError, type Config } from './config';
import { createLogger, type Logger } from './log';
import { AriConnection, StasisApp } from './ari';
import { CpaParamError, resolveParams, type CpaParams } from './cpa';
import { RtpReceiver } from './media';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Catalog, registerRecording, signedDownloadUrl, sweepRetention, type FinishedCall, type Recording, type Route } from './recordings';
import { FastAgiServer, recordingDone } from './agi';
import { OutboxWorker, emailHandler, webhookHandler, mailer, mailNotice, type DeliveryHandler, type SmtpConfig } from './transport';
import { ConnectivityMonitor, monitorTargets, restoredMail } from './monitor';
import { hostname } from 'node:os';
import type { CallSummary } from './ari';
import { startPortal } from './portal';

export interface Service {
  log: Logger;
  ari: AriConnection;
  stasis: StasisApp;
  rtp: RtpReceiver | undefined;
  /** host:port of the RTP socket externalMedia sends to ('' when CPA is off). */
  rtpTarget: string;
  catalog: Catalog;
  outbox: OutboxWorker;
  /** The portal's base URL (http://127.0.0.1:8080 by default). */
  portalUrl: string;
  /** Outage log keeper (undefined when monitor.enabled is false). */
  monitor: ConnectivityMonitor | undefined;
  /** The FastAGI server ('' when off), e.g. agi://127.0.0.1:4573. */
  agiUrl: string;
  agi: FastAgiServer | undefined;
  stop(): Promise<void>;
}

/** Delivery routes: the env shortcuts (DC_WEBHOOK_URL, DC_EMAIL_TO) plus any from the config file. */
export function routesOf(cfg: Config): Route[] {
  const t = cfg.transport;
  return [
    ...(t.webhookUrl ? [{ name: 'webhook', kind: 'webhook' as const, target: t.webhookUrl }] : []),
    ...(t.emailTo ? [{ name: 'email', kind: 'email' as const, target: t.emailTo }] : []),
    ...t.routes,
  ];
}

/** The SMTP server the deliveries and the monitor's alerts go through. */
function smtpOf(cfg: Config): SmtpConfig {
  const t = cfg.transport;
  return { host: t.smtpHost, port: t.smtpPort, security: t.smtpSecurity, user: t.smtpUser, pass: t.smtpPass, from: t.emailFrom };
}

function transportHandlers(cfg: Config, link: (rec: Recording) => string): Partial<Record<'webhook' | 'email', DeliveryHandler>> {
  const t = cfg.transport;
  const handlers: Partial<Record<'webhook' | 'email', DeliveryHandler>> = {};
  if (t.webhookSecret) handlers.webhook = webhookHandler({ secret: t.webhookSecret, mode: t.webhookMode, link });
  handlers.email = emailHandler({ smtp: smtpOf(cfg), maxAttachmentBytes: t.maxAttachmentBytes, link });
  return handlers;
}

/** Engine parameters from the config, validated by the engine; a problem names where it is (`where`). */
function engineParams(params: Record<string, unknown>, where: string, problems: string[]): CpaParams | undefined {
  try {
    return resolveParams(params);
  } catch (e) {
    if (!(e instanceof CpaParamError)) throw e;
    problems.push(`${where}: ${e.message}`);
    return undefined;
  }
}

/** The default parameters (when CPA is on) and the named configurations, all checked before anything starts. */
export function cpaSettings(cfg: Config): { params: CpaParams | undefined; configs: Map<string, CpaParams> } {
  const problems: string[] = [];
  const params = cfg.cpa.enabled ? engineParams(cfg.cpa.params, 'cpa.params (DC_CPA_PARAMS)', problems) : undefined;
  const configs = new Map<string, CpaParams>();
  for (const [name, p] of Object.entries(cfg.cpa.configs)) {
    const resolved = engineParams(p, `cpa.configs.${name} (DC_CPA_CONFIGS)`, problems);
    if (resolved) configs.set(name, resolved);
  }
  if (problems.length) throw new ConfigError(problems);
  return { params, configs };
}

/** Composes the service from its parts; the only place where modules meet. */
export async function startService(cfg: Config, log: Logger = createLogger(cfg.log.level)): Promise<Service> {
  const { params, configs: namedParams } = cpaSettings(cfg);
  let rtp: RtpReceiver | undefined;
  let rtpTarget = '';
  if (params) {
    rtp = new RtpReceiver();
    const bound = await rtp.listen(cfg.media.rtpHost, cfg.media.rtpPort);
    rtpTarget = `${bound.address}:${bound.port}`;
    log.info({ rtp: rtpTarget, codec: cfg.media.codec }, 'RTP receiver for the CPA tap listening');
  }
  mkdirSync(dirname(cfg.recordings.catalogFile), { recursive: true });
  const catalog = new Catalog(cfg.recordings.catalogFile);
  const routes = routesOf(cfg);
  const t = cfg.transport;
  const linkSecret = cfg.portal.linkSecret ?? randomBytes(32).toString('base64url');
  if (!cfg.portal.linkSecret) log.warn('portal.linkSecret (DC_LINK_SECRET) not set: download links are signed with a random key and stop working after a restart');
  const link = (rec: Recording) => signedDownloadUrl(t.publicUrl, linkSecret, rec.id, cfg.portal.linkTtlHours * 3600_000);
  const outbox = new OutboxWorker({
    catalog,
    root: cfg.recordings.localDir,
    handlers: transportHandlers(cfg, link),
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
  // Retention: at start, then hourly.
  const retention = { catalog, root: cfg.recordings.localDir, days: cfg.recordings.retentionDays, log: log.child({ module: 'retention' }) };
  const sweep = () => {
    try {
      sweepRetention(retention);
    } catch (e) {
      retention.log.error({ err: (e as Error).message }, 'retention sweep failed');
    }
  };
  sweep();
  const retentionTimer = cfg.recordings.retentionDays > 0 ? setInterval(sweep, 3600_000).unref() : undefined;
  const ari = new AriConnection({ ...cfg.ari, log: log.child({ module: 'ari' }) });
  const stasis = new StasisApp({
    ari,
    app: cfg.ari.app,
    log: log.child({ module: 'stasis' }),
    endpoint: cfg.dial.endpoint,
    dialTimeoutSec: cfg.dial.timeoutSec,
    numberPattern: new RegExp(cfg.dial.numberPattern),
    tap: params && rtp ? { receiver: rtp, rtpTarget, codec: cfg.media.codec, params, actions: cfg.cpa } : undefined,
    cpaConfigs: namedParams,
    recording:
      cfg.recordingKeys.pause || cfg.recordingKeys.resume || cfg.recordingKeys.stop ? { keys: cfg.recordingKeys, ami: { ...cfg.ami, timeoutMs: 5000 } } : undefined,
  });
  const recLog = log.child({ module: 'recordings' });
  const registrar = { catalog, root: cfg.recordings.localDir, asteriskDir: cfg.recordings.asteriskDir, routes, log: recLog, onRegistered: () => outbox.kick() };
  // A finished call's recording goes into the catalog (with its deliveries) as soon as MixMonitor has
  // closed it; a failure is retried, so a slow disk or a long close does not lose the recording.
  const registering = new Set<Promise<unknown>>();
  let stopping = false;
  const register = (call: FinishedCall, attempt = 1): void => {
    const p = registerRecording(registrar, call).catch((e: unknown) => {
      recLog.error({ uniqueid: call.uniqueid, file: call.file, source: call.source, attempt, err: (e as Error).message }, 'recording not catalogued yet');
      if (attempt < 10 && !stopping) setTimeout(() => register(call, attempt + 1), 10_000 * attempt).unref();
    });
    registering.add(p);
    void p.finally(() => registering.delete(p));
  };
  stasis.on('call-ended', (s: CallSummary) => {
    if (!s.recordingFile) return;
    register({
      uniqueid: s.uniqueid, linkedid: s.linkedid ?? null, ani: s.ani, dnis: s.dnis, startedAt: s.startedAt, answeredAt: s.answeredAt, endedAt: s.endedAt, file: s.recordingFile, source: 'ari', cpaResult: s.cpaResult ?? null, cpaEvents: s.cpaEvents,
    });
  });
  let agi: FastAgiServer | undefined;
  let agiUrl = '';
  if (cfg.agi.enabled) {
    agi = new FastAgiServer({ log: log.child({ module: 'agi' }), scripts: { 'recording-done': recordingDone((call) => register(call)) } });
    const bound = await agi.listen(cfg.agi.host, cfg.agi.port);
    agiUrl = `agi://${bound.address}:${bound.port}`;
    log.info({ agi: agiUrl }, 'FastAGI server listening');
  }
  let monitor: ConnectivityMonitor | undefined;
  const portal = await startPortal({
    connectivity: () => monitor?.status() ?? [],
    host: cfg.portal.host,
    port: cfg.portal.port,
    log: log.child({ module: 'portal' }),
    downloads: { catalog, root: cfg.recordings.localDir, linkSecret },
    session: {
      secret: cfg.portal.sessionSecret ?? randomBytes(32).toString('base64url'),
      ttlMs: cfg.portal.sessionHours * 3600_000,
      secure: t.publicUrl.startsWith('https:'),
    },
    upload: {
      root: cfg.recordings.localDir,
      tokens: cfg.portal.uploadTokens,
      maxBytes: cfg.portal.maxUploadBytes,
      register: (f) =>
        registerRecording(registrar, { uniqueid: null, ani: f.ani, dnis: f.dnis, file: f.path, source: 'upload', endedAt: new Date(), complete: { durationMs: f.durationMs, format: f.format } }),
    },
  });
  if (cfg.monitor.enabled) {
    const alertTo = cfg.monitor.alertTo ?? t.emailTo;
    const smtp = smtpOf(cfg);
    const alertMailer = alertTo ? mailer(smtp) : undefined;
    const targets = monitorTargets({
      ari: cfg.ari,
      webhooks: routes.filter((r) => r.kind === 'webhook').map((r) => r.target),
      smtp: routes.some((r) => r.kind === 'email') || alertTo ? { host: t.smtpHost, port: t.smtpPort } : undefined,
      sip: cfg.monitor.sip,
      ping: cfg.monitor.ping,
      tcp: cfg.monitor.tcp,
    });
    const host = hostname();
    monitor = new ConnectivityMonitor({
      targets,
      outages: catalog.outages,
      log: log.child({ module: 'monitor' }),
      intervalMs: cfg.monitor.intervalMs,
      timeoutMs: cfg.monitor.timeoutMs,
      failuresToDown: cfg.monitor.failuresToDown,
      alert:
        alertTo && alertMailer
          ? async (restored) => {
              const m = restoredMail(restored, host);
              await mailNotice(alertMailer, smtp.from, alertTo, m.subject, m.text);
            }
          : undefined,
    });
    monitor.start();
    log.info({ targets: targets.map((x) => x.name), alertTo: alertTo ?? null }, 'connectivity monitor started');
  }
  log.info({ ari: cfg.ari.url, app: cfg.ari.app, endpoint: cfg.dial.endpoint, routes: routes.map((r) => r.name), catalog: cfg.recordings.catalogFile }, 'starting');
  void ari.start();
  return {
    log,
    ari,
    stasis,
    rtp,
    rtpTarget,
    catalog,
    outbox,
    portalUrl: portal.url,
    agiUrl,
    agi,
    monitor,
    async stop() {
      clearInterval(retentionTimer);
      await monitor?.stop();
      const closed = new Promise<void>((r) => portal.server.close(() => r()));
      portal.server.closeAllConnections();
      await closed;
      await agi?.close();
      await stasis.shutdown().catch(() => undefined);
      ari.stop();
      rtp?.close();
      // Let recordings of calls that just ended reach the catalog before it closes.
      let cap: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...registering]), new Promise((r) => (cap = setTimeout(r, 35_000)))]);
      clearTimeout(cap);
      stopping = true;
      await outbox.stop();
      catalog.close();
    },
  };
}
