import { readFileSync } from 'node:fs';
import { configSchema, type Config } from './schema';

/** A setting that can come from the environment: variable name, where it goes, how to read it. */
interface EnvSetting {
  env: string;
  path: string[];
  type: 'string' | 'int' | 'number' | 'bool' | 'json' | 'list';
  /** Secrets may also be read from the file named by `${env}_FILE` (Docker/systemd credentials style). */
  secret?: boolean;
}

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { env: 'DC_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
  { env: 'DC_ARI_URL', path: ['ari', 'url'], type: 'string' },
  { env: 'DC_ARI_USER', path: ['ari', 'username'], type: 'string' },
  { env: 'DC_ARI_PASSWORD', path: ['ari', 'password'], type: 'string', secret: true },
  { env: 'DC_ARI_APP', path: ['ari', 'app'], type: 'string' },
  { env: 'DC_ARI_RECONNECT_MIN_MS', path: ['ari', 'reconnectMinMs'], type: 'int' },
  { env: 'DC_ARI_RECONNECT_MAX_MS', path: ['ari', 'reconnectMaxMs'], type: 'int' },
  { env: 'DC_DIAL_ENDPOINT', path: ['dial', 'endpoint'], type: 'string' },
  { env: 'DC_DIAL_TIMEOUT_SEC', path: ['dial', 'timeoutSec'], type: 'int' },
  { env: 'DC_DIAL_NUMBER_PATTERN', path: ['dial', 'numberPattern'], type: 'string' },
  { env: 'DC_RTP_HOST', path: ['media', 'rtpHost'], type: 'string' },
  { env: 'DC_RTP_PORT', path: ['media', 'rtpPort'], type: 'int' },
  { env: 'DC_RTP_CODEC', path: ['media', 'codec'], type: 'string' },
  { env: 'DC_CPA_ENABLED', path: ['cpa', 'enabled'], type: 'bool' },
  { env: 'DC_CPA_PARAMS', path: ['cpa', 'params'], type: 'json' },
  { env: 'DC_CPA_CONFIGS', path: ['cpa', 'configs'], type: 'json' },
  { env: 'DC_CPA_ON_FAX', path: ['cpa', 'onFax'], type: 'string' },
  { env: 'DC_CPA_ON_SIT', path: ['cpa', 'onSit'], type: 'string' },
  { env: 'DC_CPA_ON_MACHINE', path: ['cpa', 'onMachine'], type: 'string' },
  { env: 'DC_CPA_DROP_MESSAGE', path: ['cpa', 'dropMessage'], type: 'string' },
  { env: 'DC_CPA_BEEP_WAIT_MS', path: ['cpa', 'beepWaitMs'], type: 'int' },
  { env: 'DC_CPA_ON_LIVE', path: ['cpa', 'onLive'], type: 'string' },
  { env: 'DC_CPA_LIVE_TONE', path: ['cpa', 'liveTone'], type: 'string' },
  { env: 'DC_CPA_MAX_CONCURRENT_CALLS', path: ['cpa', 'maxConcurrentCalls'], type: 'int' },
  { env: 'DC_CPA_MAX_ARI_LATENCY_MS', path: ['cpa', 'maxAriLatencyMs'], type: 'int' },
  { env: 'DC_CPA_MAX_TAP_LAG_MS', path: ['cpa', 'maxTapLagMs'], type: 'int' },
  { env: 'DC_CPA_SERVICE_URL', path: ['cpa', 'serviceUrl'], type: 'string' },
  { env: 'DC_CPA_SERVICE_CONFIG', path: ['cpa', 'serviceConfig'], type: 'string' },
  { env: 'DC_CPA_SERVER_ENABLED', path: ['cpa', 'server', 'enabled'], type: 'bool' },
  { env: 'DC_CPA_SERVER_HOST', path: ['cpa', 'server', 'host'], type: 'string' },
  { env: 'DC_CPA_SERVER_PORT', path: ['cpa', 'server', 'port'], type: 'int' },
  { env: 'DC_CPA_SERVER_TLS_CERT_FILE', path: ['cpa', 'server', 'tlsCertFile'], type: 'string' },
  { env: 'DC_CPA_SERVER_TLS_KEY_FILE', path: ['cpa', 'server', 'tlsKeyFile'], type: 'string' },
  { env: 'DC_CPA_SERVER_MAX_SESSIONS', path: ['cpa', 'server', 'maxSessions'], type: 'int' },
  { env: 'DC_CPA_SERVER_MAX_SESSIONS_PER_TENANT', path: ['cpa', 'server', 'maxSessionsPerTenant'], type: 'int' },
  { env: 'DC_CPA_SERVER_MAX_FRAME_BYTES', path: ['cpa', 'server', 'maxFrameBytes'], type: 'int' },
  { env: 'DC_CPA_SERVER_IDLE_TIMEOUT_MS', path: ['cpa', 'server', 'idleTimeoutMs'], type: 'int' },
  { env: 'DC_CPA_SERVER_MAX_SESSION_MS', path: ['cpa', 'server', 'maxSessionMs'], type: 'int' },
  { env: 'DC_CPA_SERVER_VOICE_DIR', path: ['cpa', 'server', 'voiceDir'], type: 'string' },
  { env: 'DC_AMI_HOST', path: ['ami', 'host'], type: 'string' },
  { env: 'DC_AMI_PORT', path: ['ami', 'port'], type: 'int' },
  { env: 'DC_AMI_USER', path: ['ami', 'username'], type: 'string' },
  { env: 'DC_AMI_SECRET', path: ['ami', 'secret'], type: 'string', secret: true },
  { env: 'DC_RECORDING_KEYS_PAUSE', path: ['recordingKeys', 'pause'], type: 'string' },
  { env: 'DC_RECORDING_KEYS_RESUME', path: ['recordingKeys', 'resume'], type: 'string' },
  { env: 'DC_RECORDING_KEYS_STOP', path: ['recordingKeys', 'stop'], type: 'string' },
  { env: 'DC_MONITOR_ENABLED', path: ['monitor', 'enabled'], type: 'bool' },
  { env: 'DC_MONITOR_INTERVAL_MS', path: ['monitor', 'intervalMs'], type: 'int' },
  { env: 'DC_MONITOR_TIMEOUT_MS', path: ['monitor', 'timeoutMs'], type: 'int' },
  { env: 'DC_MONITOR_FAILURES', path: ['monitor', 'failuresToDown'], type: 'int' },
  { env: 'DC_MONITOR_ALERT_TO', path: ['monitor', 'alertTo'], type: 'string' },
  { env: 'DC_MONITOR_SIP', path: ['monitor', 'sip'], type: 'list' },
  { env: 'DC_MONITOR_PING', path: ['monitor', 'ping'], type: 'list' },
  { env: 'DC_MONITOR_TCP', path: ['monitor', 'tcp'], type: 'list' },
  { env: 'DC_AGI_ENABLED', path: ['agi', 'enabled'], type: 'bool' },
  { env: 'DC_AGI_HOST', path: ['agi', 'host'], type: 'string' },
  { env: 'DC_AGI_PORT', path: ['agi', 'port'], type: 'int' },
  { env: 'DC_AGI_ALLOW_FROM', path: ['agi', 'allowFrom'], type: 'list' },
  { env: 'DC_AGI_SECRET', path: ['agi', 'secret'], type: 'string', secret: true },
  { env: 'DC_PORTAL_HOST', path: ['portal', 'host'], type: 'string' },
  { env: 'DC_PORTAL_PORT', path: ['portal', 'port'], type: 'int' },
  { env: 'DC_UPLOAD_TOKENS', path: ['portal', 'uploadTokens'], type: 'list', secret: true },
  { env: 'DC_MAX_UPLOAD_BYTES', path: ['portal', 'maxUploadBytes'], type: 'int' },
  { env: 'DC_PORTAL_MAX_CONNECTIONS', path: ['portal', 'maxConnections'], type: 'int' },
  { env: 'DC_PORTAL_HEADERS_TIMEOUT_MS', path: ['portal', 'headersTimeoutMs'], type: 'int' },
  { env: 'DC_METRICS_ALLOW_FROM', path: ['portal', 'metricsAllowFrom'], type: 'list' },
  { env: 'DC_METRICS_TOKEN', path: ['portal', 'metricsToken'], type: 'string', secret: true },
  { env: 'DC_MAX_CONCURRENT_UPLOADS', path: ['portal', 'maxConcurrentUploads'], type: 'int' },
  { env: 'DC_LINK_SECRET', path: ['portal', 'linkSecret'], type: 'string', secret: true },
  { env: 'DC_LINK_TTL_HOURS', path: ['portal', 'linkTtlHours'], type: 'number' },
  { env: 'DC_SESSION_SECRET', path: ['portal', 'sessionSecret'], type: 'string', secret: true },
  { env: 'DC_SESSION_HOURS', path: ['portal', 'sessionHours'], type: 'number' },
  { env: 'DC_SESSION_IDLE_MINUTES', path: ['portal', 'sessionIdleMinutes'], type: 'number' },
  { env: 'DC_TRUST_PROXY', path: ['portal', 'trustProxy'], type: 'list' },
  { env: 'DC_WEBHOOK_MODE', path: ['transport', 'webhookMode'], type: 'string' },
  { env: 'DC_CATALOG_FILE', path: ['recordings', 'catalogFile'], type: 'string' },
  { env: 'DC_DATABASE_URL', path: ['recordings', 'databaseUrl'], type: 'string', secret: true },
  { env: 'DC_INSTANCE', path: ['instance'], type: 'string' },
  { env: 'DC_RECORDINGS_KEEP_LOCAL', path: ['recordings', 'keepLocal'], type: 'bool' },
  { env: 'DC_S3_ENDPOINT', path: ['s3', 'endpoint'], type: 'string' },
  { env: 'DC_S3_BUCKET', path: ['s3', 'bucket'], type: 'string' },
  { env: 'DC_S3_REGION', path: ['s3', 'region'], type: 'string' },
  { env: 'DC_S3_PREFIX', path: ['s3', 'prefix'], type: 'string' },
  { env: 'DC_S3_ACCESS_KEY_ID', path: ['s3', 'accessKeyId'], type: 'string', secret: true },
  { env: 'DC_S3_SECRET_ACCESS_KEY', path: ['s3', 'secretAccessKey'], type: 'string', secret: true },
  { env: 'DC_S3_FORCE_PATH_STYLE', path: ['s3', 'forcePathStyle'], type: 'bool' },
  { env: 'DC_S3_POLL_MS', path: ['s3', 'pollMs'], type: 'int' },
  { env: 'DC_S3_MAX_BACKOFF_MS', path: ['s3', 'maxBackoffMs'], type: 'int' },
  { env: 'DC_TRANSPORT_FORMAT', path: ['transport', 'format'], type: 'string' },
  { env: 'DC_WEBHOOK_URL', path: ['transport', 'webhookUrl'], type: 'string' },
  { env: 'DC_WEBHOOK_SECRET', path: ['transport', 'webhookSecret'], type: 'string', secret: true },
  { env: 'DC_EMAIL_TO', path: ['transport', 'emailTo'], type: 'string' },
  { env: 'DC_EMAIL_FROM', path: ['transport', 'emailFrom'], type: 'string' },
  { env: 'DC_SMTP_HOST', path: ['transport', 'smtpHost'], type: 'string' },
  { env: 'DC_SMTP_PORT', path: ['transport', 'smtpPort'], type: 'int' },
  { env: 'DC_SMTP_SECURITY', path: ['transport', 'smtpSecurity'], type: 'string' },
  { env: 'DC_SMTP_USER', path: ['transport', 'smtpUser'], type: 'string' },
  { env: 'DC_SMTP_PASS', path: ['transport', 'smtpPass'], type: 'string', secret: true },
  { env: 'DC_MAX_ATTACHMENT_BYTES', path: ['transport', 'maxAttachmentBytes'], type: 'int' },
  { env: 'DC_PUBLIC_URL', path: ['transport', 'publicUrl'], type: 'string' },
  { env: 'DC_DELIVERY_MAX_AGE_HOURS', path: ['transport', 'maxAgeHours'], type: 'number' },
  { env: 'DC_DELIVERY_BASE_BACKOFF_MS', path: ['transport', 'baseBackoffMs'], type: 'int' },
  { env: 'DC_DELIVERY_MAX_BACKOFF_MS', path: ['transport', 'maxBackoffMs'], type: 'int' },
  { env: 'DC_DELIVERY_POLL_MS', path: ['transport', 'pollMs'], type: 'int' },
  { env: 'DC_DELIVERY_LEASE_MS', path: ['transport', 'leaseMs'], type: 'int' },
  { env: 'DC_DELIVERY_CONCURRENCY', path: ['transport', 'concurrency'], type: 'int' },
  { env: 'DC_RECORDINGS_ASTERISK_DIR', path: ['recordings', 'asteriskDir'], type: 'string' },
  { env: 'DC_RECORDINGS_LOCAL_DIR', path: ['recordings', 'localDir'], type: 'string' },
  { env: 'DC_RETENTION_DAYS', path: ['recordings', 'retentionDays'], type: 'number' },
  { env: 'DC_RECOVER_DAYS', path: ['recordings', 'recoverDays'], type: 'int' },
  { env: 'DC_MIN_FREE_BYTES', path: ['recordings', 'minFreeBytes'], type: 'int' },
  { env: 'DC_RECOVER_FILES', path: ['recordings', 'recoverFiles'], type: 'bool' },
  { env: 'DC_RECOVER_EVERY_MS', path: ['recordings', 'recoverEveryMs'], type: 'int' },
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Json = { [k: string]: unknown };

function setPath(obj: Json, path: string[], value: unknown): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function readEnv(env: NodeJS.ProcessEnv, problems: string[]): Json {
  const out: Json = {};
  for (const s of ENV_SETTINGS) {
    let raw = env[s.env];
    const fileVar = `${s.env}_FILE`;
    if (s.secret && env[fileVar] !== undefined) {
      if (raw !== undefined) {
        problems.push(`${s.env} and ${fileVar} are both set: use one`);
        continue;
      }
      try {
        raw = readFileSync(env[fileVar] as string, 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        problems.push(`${fileVar}: cannot read ${env[fileVar]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        continue;
      }
    }
    if (raw === undefined) continue;
    if (s.type === 'int') {
      if (!/^-?\d+$/.test(raw.trim())) {
        problems.push(`${s.path.join('.')} (${s.env}): must be a whole number, got "${raw}"`);
        continue;
      }
      setPath(out, s.path, Number(raw.trim()));
    } else if (s.type === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) {
        problems.push(`${s.path.join('.')} (${s.env}): must be a number, got "${raw}"`);
        continue;
      }
      setPath(out, s.path, Number(raw.trim()));
    } else if (s.type === 'bool') {
      const v = raw.trim().toLowerCase();
      if (!['true', 'false', '1', '0', 'yes', 'no'].includes(v)) {
        problems.push(`${s.path.join('.')} (${s.env}): must be true or false, got "${raw}"`);
        continue;
      }
      setPath(out, s.path, ['true', '1', 'yes'].includes(v));
    } else if (s.type === 'list') {
      setPath(out, s.path, raw.split(/[\s,]+/).filter(Boolean));
    } else if (s.type === 'json') {
      try {
        setPath(out, s.path, JSON.parse(raw));
      } catch (e) {
        problems.push(`${s.path.join('.')} (${s.env}): must be JSON, ${(e as Error).message}`);
      }
    } else {
      setPath(out, s.path, raw);
    }
  }
  return out;
}

// JSON.parse keeps "__proto__" as an own key, but copying it into another object sets a prototype instead:
// the setting would vanish without a word. Refuse it (and its two siblings) wherever it appears.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function forbiddenKeys(v: unknown, where: string, problems: string[]): void {
  if (!v || typeof v !== 'object') return;
  for (const k of Object.keys(v)) {
    const path = where ? `${where}.${k}` : k;
    if (FORBIDDEN_KEYS.has(k)) problems.push(`${path}: "${k}" is not a setting`);
    else forbiddenKeys((v as Json)[k], path, problems);
  }
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      out[k] = deepMerge(b as Json, v as Json);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function envNameFor(path: PropertyKey[]): string {
  const joined = path.map(String).join('.');
  const s = ENV_SETTINGS.find((e) => e.path.join('.') === joined);
  return s ? ` (${s.env})` : '';
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON config file; DC_CONFIG names one when this is not given. */
  file?: string;
}

/**
 * Settings come from, in rising priority: built-in defaults, a JSON file (--config or DC_CONFIG), the
 * environment. Every problem is reported at once, each naming the key, its env variable and what is allowed.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  let fromFile: Json = {};
  const file = opts.file ?? env.DC_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`config file ${file}: must hold a JSON object`);
      } else {
        fromFile = parsed as Json;
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      problems.push(`config file ${file}: ${err.code === 'ENOENT' ? 'not found' : err.message}`);
    }
  }
  const fromEnv = readEnv(env, problems);
  forbiddenKeys(fromFile, '', problems);
  forbiddenKeys(fromEnv, '', problems);
  if (problems.length) throw new ConfigError(problems);

  const result = configSchema.safeParse(deepMerge(fromFile, fromEnv));
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        if (i.code === 'unrecognized_keys') {
          const where = i.path.length ? `${i.path.join('.')}.` : '';
          return `unknown key(s): ${i.keys.map((k) => where + k).join(', ')}`;
        }
        return `${i.path.join('.')}${envNameFor(i.path)}: ${i.message}`;
      }),
    );
  }
  return result.data;
}
