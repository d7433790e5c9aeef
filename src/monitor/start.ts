import { hostname } from 'node:os';
import { routesOf, smtpOf, type Config } from '../config';
import type { Logger } from '../log';
import type { OutageLog } from '../recordings';
import { mailer, mailNotice, type SmtpConfig } from '../transport';
import { ConnectivityMonitor, restoredMail } from './monitor';
import { monitorTargets, type MonitorConfig } from './targets';

export interface MonitorSettings {
  intervalMs: number;
  timeoutMs: number;
  failuresToDown: number;
  /** Who gets "Restored" mails (none: log only). */
  alertTo: string | undefined;
  smtp: SmtpConfig;
}

/** The connectivity monitor with its restore alerts by mail, started. */
export function startMonitor(
  s: MonitorSettings,
  watch: Omit<MonitorConfig, 'smtp'> & { mailRoutes: boolean },
  outages: OutageLog,
  log: Logger,
  instance?: string,
): ConnectivityMonitor {
  const alertMailer = s.alertTo ? mailer(s.smtp) : undefined;
  const targets = monitorTargets({ ...watch, smtp: watch.mailRoutes || s.alertTo ? { host: s.smtp.host, port: s.smtp.port } : undefined });
  const host = instance ?? hostname();
  const monitor = new ConnectivityMonitor({
    targets,
    outages,
    instance,
    log,
    intervalMs: s.intervalMs,
    timeoutMs: s.timeoutMs,
    failuresToDown: s.failuresToDown,
    alert:
      s.alertTo && alertMailer
        ? async (restored) => {
            const m = restoredMail(restored, host);
            await mailNotice(alertMailer, s.smtp.from, s.alertTo!, m.subject, m.text);
          }
        : undefined,
  });
  monitor.start();
  log.info({ targets: targets.map((x) => x.name), alertTo: s.alertTo ?? null }, 'connectivity monitor started');
  return monitor;
}

/** The monitor for the service's configuration: ARI, the delivery routes and the listed targets. */
export function startMonitorFor(
  cfg: Config,
  outages: OutageLog,
  log: Logger,
  bucket?: MonitorConfig['bucket'],
): { monitor: ConnectivityMonitor; stop(): Promise<void> } {
  const m = cfg.monitor;
  const routes = routesOf(cfg);
  const monitor = startMonitor(
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
      bucket,
    },
    outages,
    log.child({ module: 'monitor' }),
    cfg.instance,
  );
  return { monitor, stop: () => monitor.stop() };
}
