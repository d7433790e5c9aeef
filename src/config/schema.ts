import { hostname } from 'node:os';
import { z } from 'zod';
import { DELIVERY_KINDS } from '../recordings/kinds';

// Every setting, its default and what is allowed. Defaults are the sandbox's (scripts/sandbox.sh), so the
// demo runs with no configuration at all; anything that faces a real PBX is overridden by env or file.

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const SANDBOX_ARI_PASSWORD = 'sandbox-only-change-me';

const port = z.number().int().min(1).max(65535);
const emailList = z.string().regex(/^[^\s@,]+@[^\s@,]+(\s*,\s*[^\s@,]+@[^\s@,]+)*$/, 'one or more e-mail addresses, comma separated');
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$/, 'host:port, e.g. 203.0.113.5:5060');
const dtmfKeys = z.string().regex(/^[0-9*#A-D]{0,4}$/, 'up to 4 DTMF keys (0-9 * # A-D), or empty to turn it off');
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' });

/** A companion instance's name (DC_INSTANCE, `catalog copy --instance`). */
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const configSchema = z
  .object({
    // This companion's name among those sharing one database: on its recordings (whose disk holds the file
    // until it is in the bucket) and its outages. The host name unless set.
    instance: z
      .string()
      .regex(INSTANCE_NAME, 'letters, digits, . _ - (up to 64, starting with a letter or digit)')
      .default(() => hostname().slice(0, 64) || 'companion'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    // The archive: an S3-compatible bucket (AWS, MinIO, Ceph RGW, ...). Off unless a bucket is named.
    s3: z
      .object({
        // http(s)://host:port of the S3 API; absent: AWS's endpoint for the region.
        endpoint: z
          .string()
          .refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), 'an http:// or https:// URL')
          .optional(),
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lower-case letters, digits, . -)')
          .optional(),
        region: z.string().min(1).default('us-east-1'),
        // Prepended to every object key, e.g. "recordings/".
        prefix: z
          .string()
          .max(200)
          .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'path segments ending in /, e.g. recordings/')
          .default(''),
        // Credentials: these, or the SDK's usual chain (AWS_* environment, instance role) when absent.
        accessKeyId: z.string().min(1).optional(),
        secretAccessKey: z.string().min(1).optional(),
        // The bucket in the path (MinIO, Ceph and most self-hosted servers) instead of the host name.
        forcePathStyle: z.boolean().default(false),
        // The archiver looks for new recordings this often (a registration also wakes it); a bucket that
        // fails is retried with a doubling pause up to maxBackoffMs.
        pollMs: z.number().int().min(50).max(600_000).default(2000),
        maxBackoffMs: z.number().int().min(100).max(3_600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    ari: z
      .object({
        url: httpUrl.default('http://127.0.0.1:8088'),
        username: z.string().min(1).default('dialplan-companion'),
        password: z.string().min(1).default(SANDBOX_ARI_PASSWORD),
        app: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
          .default('dialplan-companion'),
        // Reconnect backoff when Asterisk is down or restarts.
        reconnectMinMs: z.number().int().min(50).max(60_000).default(500),
        reconnectMaxMs: z.number().int().min(100).max(300_000).default(15_000),
      })
      .strict()
      .prefault({}),
    dial: z
      .object({
        // ${NUMBER} is the dialled number without the *123 prefix (the Stasis argument).
        endpoint: z
          .string()
          .refine((s) => s.includes('${NUMBER}'), { message: 'must contain ${NUMBER}' })
          .refine((s) => /^[A-Za-z0-9_]+\//.test(s), { message: 'must start with a technology, e.g. PJSIP/ or Local/' })
          .default('Local/${NUMBER}@fake-pstn'),
        timeoutSec: z.number().int().min(5).max(300).default(45),
        // Which numbers the app agrees to dial; the dialplan already restricts to *123NXXNXXXXXX.
        numberPattern: z.string().default('^[2-9][0-9]{2}[2-9][0-9]{6}$'),
      })
      .strict()
      .prefault({}),
    media: z
      .object({
        // Where externalMedia sends the callee's audio: this service's RTP socket.
        rtpHost: z.string().min(1).default('127.0.0.1'),
        // 0 = any free port (the service tells Asterisk which one per call).
        rtpPort: z.number().int().min(0).max(65535).default(0),
        codec: z.enum(['ulaw', 'slin16']).default('ulaw'),
      })
      .strict()
      .prefault({}),
    cpa: z
      .object({
        enabled: z.boolean().default(true),
        // Engine parameters (iraCPA names), checked at start-up by the engine's own validation.
        params: z.record(z.string(), z.unknown()).default({}),
        // Named configurations (iraCPA's config_name; "tenant/name" keeps tenants apart): each is a set of
        // parameters over the engine's defaults. A call picks one with Stasis(dialplan-companion,NUMBER,cpa=NAME).
        configs: z
          .record(
            z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/, 'a configuration name: letters, digits, _ . / -'),
            z.record(z.string(), z.unknown()),
          )
          .default({}),
        // What to do on each result.
        onFax: z.enum(['hangup', 'none']).default('hangup'),
        onSit: z.enum(['hangup', 'none']).default('hangup'),
        onMachine: z.enum(['none', 'hangup', 'drop']).default('none'),
        // Played into the call after the beep when onMachine is 'drop' (ARI media URI).
        dropMessage: z
          .string()
          .regex(/^(sound|recording|tone|digits|number):/, 'an ARI media URI such as sound:custom/promo')
          .default('sound:vm-goodbye'),
        // How long to wait for a beep after AM before dropping the message anyway.
        beepWaitMs: z.number().int().min(1000).max(60000).default(15000),
        onLive: z.enum(['tone', 'none']).default('tone'),
        // Played to the caller (agent) when a live person answers.
        liveTone: z
          .string()
          .regex(/^(sound|tone):/, 'an ARI media URI such as sound:beep')
          .default('sound:beep'),
        // Backpressure: past this many calls in progress, new calls are still answered, bridged and recorded
        // but not tapped (CPA result unknown, cause "over cpa.maxConcurrentCalls"); 0 = no limit.
        maxConcurrentCalls: z.number().int().min(0).max(100_000).default(150),
        // The same when Asterisk is slow: recent ARI requests taking longer than this (median) skip the tap.
        maxAriLatencyMs: z.number().int().min(50).max(60_000).default(1500),
        // A tap whose audio starts later than this after the answer has missed the callee's first words:
        // its decision is reported as unknown (cause "tap started N ms after the answer"), never acted on.
        maxTapLagMs: z.number().int().min(100).max(10_000).default(1000),
        // Analyse live calls on a CPA server (`cpa serve`, iraCPA protocol) instead of in this process; a call
        // whose server cannot be reached is analysed here. serviceConfig names the configuration used there
        // for calls without cpa=NAME (the service saves cpa.params under it at start-up).
        serviceUrl: z
          .string()
          .regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL')
          .optional(),
        serviceConfig: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'tenant/name')
          .default('companion/default'),
        // The CPA WebSocket server (iraCPA protocol) inside `serve`; `cpa serve` runs it alone.
        server: z
          .object({
            enabled: z.boolean().default(false),
            host: z.string().min(1).default('127.0.0.1'),
            port: z.number().int().min(0).max(65535).default(8765),
            // PEM files; both set: wss://
            tlsCertFile: z.string().startsWith('/', 'must be an absolute path').optional(),
            tlsKeyFile: z.string().startsWith('/', 'must be an absolute path').optional(),
            maxSessions: z.number().int().min(1).max(100_000).default(2000),
            maxSessionsPerTenant: z.number().int().min(1).max(100_000).default(500),
            maxFrameBytes: z
              .number()
              .int()
              .min(320)
              .max(16 * 1024 * 1024)
              .default(64 * 1024),
            idleTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
            maxSessionMs: z
              .number()
              .int()
              .min(1000)
              .max(24 * 3600_000)
              .default(300_000),
            // Where log_voice sessions keep their audio (default: cpa-voice/ next to the catalog).
            voiceDir: z.string().startsWith('/', 'must be an absolute path').optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    ami: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(5038),
        username: z.string().min(1).default('dialplan-companion'),
        secret: z.string().min(1).default(SANDBOX_ARI_PASSWORD),
      })
      .strict()
      .prefault({}),
    recordingKeys: z
      .object({
        // DTMF sequences the caller presses to pause, resume and stop the call's recording ('' = off).
        pause: dtmfKeys.default('*1'),
        resume: dtmfKeys.default('*2'),
        stop: dtmfKeys.default('*3'),
      })
      .strict()
      .prefault({}),
    transport: z
      .object({
        format: z.enum(['mp3', 'wav', 'opus']).default('mp3'),
        webhookUrl: httpUrl.optional(),
        webhookSecret: z.string().min(16, 'at least 16 characters').optional(),
        // multipart: the audio in the POST; link: JSON with a signed download link to the portal.
        webhookMode: z.enum(['multipart', 'link']).default('multipart'),
        emailTo: emailList.optional(),
        emailFrom: z.string().min(3).default('dialplan-companion@localhost'),
        smtpHost: z.string().min(1).default('127.0.0.1'),
        smtpPort: port.default(25),
        smtpSecurity: z.enum(['tls', 'starttls', 'none']).default('starttls'),
        smtpUser: z.string().optional(),
        smtpPass: z.string().optional(),
        // Larger converted audio goes as a link instead (base64 pushes 18 MB past common 25 MB limits).
        maxAttachmentBytes: z
          .number()
          .int()
          .min(0)
          .default(18 * 1024 * 1024),
        // Where links in e-mails point (the portal).
        publicUrl: httpUrl.default('http://127.0.0.1:8080'),
        maxAgeHours: z
          .number()
          .min(0.001)
          .max(24 * 30)
          .default(72),
        baseBackoffMs: z.number().int().min(10).max(3600_000).default(5000),
        maxBackoffMs: z
          .number()
          .int()
          .min(100)
          .max(24 * 3600_000)
          .default(3600_000),
        concurrency: z.number().int().min(1).max(64).default(4),
        pollMs: z.number().int().min(10).max(60_000).default(1000),
        // A delivery a dead worker left 'sending' is taken again after this long.
        leaseMs: z
          .number()
          .int()
          .min(500)
          .max(24 * 3600_000)
          .default(10 * 60_000),
        // Extra routes from a config file: deliveries chosen by DNIS pattern.
        routes: z
          .array(
            z
              .object({
                name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
                kind: z.enum(DELIVERY_KINDS),
                target: z.string().min(3),
                dnisPattern: z.string().optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    monitor: z
      .object({
        // Watches ARI, the delivery routes (webhook hosts, SMTP) and the targets below; logs outages with their
        // durations and mails an alert when a connection is restored.
        enabled: z.boolean().default(true),
        intervalMs: z.number().int().min(100).max(3600_000).default(15_000),
        timeoutMs: z.number().int().min(100).max(60_000).default(3000),
        failuresToDown: z.number().int().min(1).max(20).default(2),
        // Who gets the restore alerts (default: transport.emailTo); empty = log only.
        alertTo: emailList.optional(),
        // SIP trunks / peers pinged with OPTIONS over UDP, as host:port.
        sip: z.array(hostPort).default([]),
        // Hosts pinged with ICMP (the system's ping command).
        ping: z.array(z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host name or IP address')).default([]),
        // Anything else that must accept TCP connections, as host:port.
        tcp: z.array(hostPort).default([]),
      })
      .strict()
      .prefault({}),
    agi: z
      .object({
        // The FastAGI door for dialplans that do not use Stasis: AGI(agi://127.0.0.1:4573/recording-done).
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4573),
        // Who may connect: the Asterisk hosts' addresses (an empty list: anyone who reaches the port).
        allowFrom: z.array(z.string().regex(/^[0-9A-Fa-f:.]{2,45}$/, 'an IP address')).default(['127.0.0.1', '::1']),
        // With a remote Asterisk: every AGI URL must carry ?secret=<this> (agi://host:4573/recording-done?secret=...).
        secret: z.string().min(16, 'at least 16 characters').optional(),
      })
      .strict()
      .prefault({}),
    portal: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        // Tokens an IVR presents to POST /upload; none = uploads are off.
        uploadTokens: z.array(z.string().min(16, 'each token at least 16 characters')).default([]),
        maxUploadBytes: z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024 * 1024)
          .default(50 * 1024 * 1024),
        // Open connections to the portal at most; a client has headersTimeoutMs to send its request headers.
        maxConnections: z.number().int().min(16).max(100_000).default(1024),
        headersTimeoutMs: z.number().int().min(1000).max(300_000).default(20_000),
        // /metrics: these addresses scrape without a token; anyone else needs Authorization: Bearer <metricsToken>.
        metricsAllowFrom: z.array(z.string().regex(/^[0-9A-Fa-f:.]{2,45}$/, 'an IP address')).default(['127.0.0.1', '::1']),
        metricsToken: z.string().min(16, 'at least 16 characters').optional(),
        // Uploads received at once; more are answered 429 with Retry-After.
        maxConcurrentUploads: z.number().int().min(1).max(256).default(4),
        // Signs download links in e-mails and link-mode webhooks; without it a random one is made at start
        // (links then stop working after a restart).
        linkSecret: z.string().min(16, 'at least 16 characters').optional(),
        linkTtlHours: z
          .number()
          .min(0.01)
          .max(24 * 30)
          .default(7 * 24),
        // Signs the login form's CSRF token; without it a random one is made at start (an open login form
        // then has to be reloaded after a restart; sessions themselves live in the catalog and survive it).
        sessionSecret: z.string().min(16, 'at least 16 characters').optional(),
        // A session ends this long after login, used or not ...
        sessionHours: z
          .number()
          .min(0.05)
          .max(24 * 30)
          .default(12),
        // ... or after this long unused.
        sessionIdleMinutes: z
          .number()
          .min(1)
          .max(24 * 60)
          .default(30),
        // Reverse proxies in front of the portal: from these addresses X-Forwarded-For names the client (for
        // the login throttle and the audit trail). Empty: the peer address is the client.
        trustProxy: z.array(z.string().regex(/^[0-9A-Fa-f:.]{2,45}$/, 'an IP address')).default([]),
      })
      .strict()
      .prefault({}),
    recordings: z
      .object({
        // Where MixMonitor writes, as Asterisk sees it (the dialplan snippet's directory).
        asteriskDir: z.string().startsWith('/', 'must be an absolute path').default('/var/spool/asterisk/monitor'),
        // The same directory as this service sees it (differs when Asterisk runs in a chroot or container).
        localDir: z.string().startsWith('/', 'must be an absolute path').default('/var/spool/asterisk/monitor'),
        // The catalog (SQLite, WAL). Its directory is created when missing.
        catalogFile: z.string().startsWith('/', 'must be an absolute path').default('/var/lib/dialplan-companion/catalog.sqlite'),
        // PostgreSQL instead of the SQLite file (postgres://user:password@host:port/db): several companions
        // share one catalog and one outbox. The catalog file's directory still holds local work files.
        databaseUrl: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// URL')
          .refine((u) => URL.canParse(u), 'not a valid URL')
          .optional(),
        // Delete the audio (not the catalog row) this many days after cataloguing, once every delivery is
        // finished; 0 keeps recordings forever.
        retentionDays: z.number().min(0).max(36500).default(0),
        // The recovery sweep (at start-up, then every recoverEveryMs) looks this many days back in the dated
        // directories for MixMonitor files of our calls that have no catalog row.
        recoverDays: z.number().int().min(0).max(366).default(2),
        // Off: only rows written ahead are completed (e.g. several services writing into one spool).
        recoverFiles: z.boolean().default(true),
        recoverEveryMs: z
          .number()
          .int()
          .min(1000)
          .max(24 * 3600_000)
          .default(60_000),
        // With a bucket (s3.bucket): keep the local file after it is archived and verified. Off: the local copy
        // goes once it is in the bucket and every delivery of it is finished (the PBX's disk stops being the archive).
        keepLocal: z.boolean().default(true),
        // /readyz says 503 when the recordings or catalog directory has less free space than this.
        minFreeBytes: z
          .number()
          .int()
          .min(0)
          .default(100 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // Half an S3 setup is a typo, not a choice: name what is missing.
    const s3 = cfg.s3;
    if (!s3.bucket && (s3.endpoint || s3.accessKeyId || s3.secretAccessKey || s3.prefix))
      ctx.addIssue({ code: 'custom', path: ['s3', 'bucket'], message: 'required when other s3 settings are given (DC_S3_BUCKET)' });
    if (!!s3.accessKeyId !== !!s3.secretAccessKey)
      ctx.addIssue({
        code: 'custom',
        path: ['s3', s3.accessKeyId ? 'secretAccessKey' : 'accessKeyId'],
        message: 'give both s3.accessKeyId and s3.secretAccessKey, or neither (the SDK chain)',
      });
    // The sandbox password is public (it is in this repository): only acceptable on loopback.
    // (zod runs this check even when ari.url itself failed; that failure is already reported.)
    const host = URL.canParse(cfg.ari.url) ? new URL(cfg.ari.url).hostname : undefined;
    if (host !== undefined && cfg.ari.password === SANDBOX_ARI_PASSWORD && !loopbackHosts.has(host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ari', 'password'],
        message: `the built-in sandbox password may only be used with a loopback ARI URL (got host ${host}); set DC_ARI_PASSWORD or DC_ARI_PASSWORD_FILE`,
      });
    }
    const amiHost = cfg.ami.host.replace(/^\[|\]$/g, '');
    if (cfg.ami.secret === SANDBOX_ARI_PASSWORD && !loopbackHosts.has(amiHost)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ami', 'secret'],
        message: `the built-in sandbox secret may only be used with AMI on loopback (got host ${cfg.ami.host}); set DC_AMI_SECRET or DC_AMI_SECRET_FILE`,
      });
    }
    if (cfg.transport.webhookUrl && !cfg.transport.webhookSecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['transport', 'webhookSecret'],
        message: 'required with transport.webhookUrl: webhooks are always signed (set DC_WEBHOOK_SECRET or DC_WEBHOOK_SECRET_FILE)',
      });
    }
    for (const [i, r] of cfg.transport.routes.entries()) {
      if (r.dnisPattern) {
        try {
          new RegExp(r.dnisPattern);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['transport', 'routes', i, 'dnisPattern'], message: 'not a valid regular expression' });
        }
      }
    }
    const keys = [cfg.recordingKeys.pause, cfg.recordingKeys.resume, cfg.recordingKeys.stop].filter(Boolean);
    if (new Set(keys).size !== keys.length) {
      ctx.addIssue({ code: 'custom', path: ['recordingKeys'], message: 'pause, resume and stop must be different key sequences' });
    }
    if (!!cfg.cpa.server.tlsCertFile !== !!cfg.cpa.server.tlsKeyFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['cpa', 'server', cfg.cpa.server.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile'],
        message: 'TLS needs both the certificate and the key',
      });
    }
    if (cfg.ari.reconnectMaxMs < cfg.ari.reconnectMinMs) {
      ctx.addIssue({ code: 'custom', path: ['ari', 'reconnectMaxMs'], message: 'must be >= ari.reconnectMinMs' });
    }
    try {
      new RegExp(cfg.dial.numberPattern);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['dial', 'numberPattern'], message: `not a valid regular expression: ${(e as Error).message}` });
    }
  });

export type Config = z.infer<typeof configSchema>;
