import { CpaParamError, resolveParams, type CpaParams } from '../cpa';
import type { BucketSettings, Route } from '../recordings';
import type { SmtpConfig } from '../transport';
import { ConfigError } from './load';
import type { Config } from './schema';

// Settings computed from the configuration, shared by serve and doctor.

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
export function smtpOf(cfg: Config): SmtpConfig {
  const t = cfg.transport;
  return { host: t.smtpHost, port: t.smtpPort, security: t.smtpSecurity, user: t.smtpUser, pass: t.smtpPass, from: t.emailFrom };
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

/** Where the catalog is: the PostgreSQL URL when set, else the SQLite file. */
export function catalogLocation(cfg: Config): string {
  return cfg.recordings.databaseUrl ?? cfg.recordings.catalogFile;
}

/**
 * The instance name the recorder, outbox and retention keep to: only with a shared (PostgreSQL) catalog,
 * where other companions' files are on other disks. With SQLite there is one companion, and a renamed host
 * must not strand its own undelivered recordings.
 */
export function sharedNode(cfg: Config): string | undefined {
  return cfg.recordings.databaseUrl ? cfg.instance : undefined;
}

/** The bucket's settings when one is configured (s3.bucket). */
export function bucketOf(cfg: Config): BucketSettings | undefined {
  const s = cfg.s3;
  if (!s.bucket) return undefined;
  return {
    endpoint: s.endpoint,
    bucket: s.bucket,
    region: s.region,
    prefix: s.prefix,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    forcePathStyle: s.forcePathStyle,
  };
}
