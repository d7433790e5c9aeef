// `dialplan-companion cpa serve`: the CPA engine behind the iraCPA WebSocket protocol. A thin shell: each
// connection runs at most one CpaSession; text frames are requests, binary frames PCM16LE audio.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { CpaSession, liveParams, type CpaEvent, type CpaParams } from '../cpa';
import { encodeWav } from '../media';
import type { Logger } from '../log';
import { ERROR, EnergyPattern, ProtocolError, checkParams, configKey, parseRequest, type CpaRequest, type SavedConfig } from './protocol';

/** Where named configurations live: read by every instance that shares it, written by set_cpa_params. */
export interface ConfigStore {
  get(key: string): Promise<SavedConfig | undefined> | SavedConfig | undefined;
  /** Rejects (error 02) when the name may not be written, e.g. one defined in the config file. */
  set(key: string, config: SavedConfig): Promise<void> | void;
}

export interface CpaServerLimits {
  /** Sessions at once, all tenants (error 10 beyond). */
  maxSessions: number;
  /** Sessions at once per tenant (error 04, "no licence", beyond). */
  maxSessionsPerTenant: number;
  /** Largest frame, text or binary (error 07). */
  maxFrameBytes: number;
  /** A connection that sends nothing for this long is closed (error 08). */
  idleTimeoutMs: number;
  /** Audio time after which a session is ended (error 09). */
  maxSessionMs: number;
  /** After a break event, how long the client has to disconnect before the server closes. */
  breakGraceMs: number;
}

export const DEFAULT_LIMITS: CpaServerLimits = {
  maxSessions: 2000,
  maxSessionsPerTenant: 500,
  maxFrameBytes: 64 * 1024,
  idleTimeoutMs: 10_000,
  maxSessionMs: 300_000,
  breakGraceMs: 2000,
};

export interface CpaServerOptions {
  host: string;
  port: number;
  log: Logger;
  configs: ConfigStore;
  limits?: Partial<CpaServerLimits>;
  /** TLS (wss://): PEM certificate and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where log_voice sessions keep their audio (WAV per call_uuid); none: log_voice is refused. */
  voiceDir?: string;
}

export interface CpaServerStats {
  connections: number;
  sessions: number;
  requests: number;
  errors: Record<string, number>;
}

/** What every result carries, beyond the engine's own event fields. */
export interface CpaResult extends CpaEvent {
  reason: string;
  break: boolean;
  max_energy: number;
  pattern: string;
  duration: number;
  request_count: number;
  real_time: number;
  call_uuid: string;
}

export class CpaServer {
  readonly stats: CpaServerStats = { connections: 0, sessions: 0, requests: 0, errors: {} };
  private readonly limits: CpaServerLimits;
  private readonly perTenant = new Map<string, number>();
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;

  constructor(private readonly o: CpaServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    if (o.voiceDir) mkdirSync(o.voiceDir, { recursive: true });
  }

  async listen(): Promise<{ url: string; port: number }> {
    const http = (this.http = this.o.tls ? createHttpsServer({ cert: this.o.tls.cert, key: this.o.tls.key }) : createHttpServer());
    http.on('request', (_req, res) =>
      res.writeHead(426, { 'content-type': 'text/plain' }).end('this is a WebSocket endpoint (iraCPA protocol)\n'),
    );
    // maxPayload a little above our own limit: we answer a too-large frame with error 07 ourselves.
    this.wss = new WebSocketServer({ server: http, maxPayload: this.limits.maxFrameBytes * 2, perMessageDeflate: false });
    this.wss.on('connection', (ws) => this.accept(ws));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.o.port, this.o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const a = http.address() as { address: string; port: number };
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    const url = `${this.o.tls ? 'wss' : 'ws'}://${host}:${a.port}`;
    this.o.log.info({ url, limits: this.limits }, 'CPA WebSocket server listening');
    return { url, port: a.port };
  }

  get activeSessions(): number {
    return this.stats.sessions;
  }

  async close(): Promise<void> {
    for (const ws of this.wss?.clients ?? []) ws.close(1001, 'server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => {
      if (!this.http) return r();
      this.http.close(() => r());
      this.http.closeAllConnections();
    });
  }

  private accept(ws: WebSocket): void {
    this.stats.connections++;
    new Connection(ws, this, this.o, this.limits).start();
  }

  /** @internal a session may start for this tenant: the reason it may not, or undefined. */
  admit(tenant: string): { code: string; reason: string } | undefined {
    if (this.stats.sessions >= this.limits.maxSessions)
      return { code: ERROR.serverFull, reason: `server at its limit of ${this.limits.maxSessions} sessions` };
    const n = this.perTenant.get(tenant) ?? 0;
    if (n >= this.limits.maxSessionsPerTenant)
      return {
        code: ERROR.noLicence,
        reason: `tenant ${tenant} is at its limit of ${this.limits.maxSessionsPerTenant} concurrent sessions`,
      };
    this.perTenant.set(tenant, n + 1);
    this.stats.sessions++;
    return undefined;
  }

  /** @internal */
  release(tenant: string): void {
    const n = (this.perTenant.get(tenant) ?? 1) - 1;
    if (n <= 0) this.perTenant.delete(tenant);
    else this.perTenant.set(tenant, n);
    this.stats.sessions--;
  }

  /** @internal */
  countError(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }
}

// A client that does not read its replies must not make us buffer without end.
const MAX_BUFFERED = 1 << 20;

class Connection {
  private session: CpaSession | undefined;
  private req: CpaRequest | undefined;
  private callUuid = '';
  private pattern: EnergyPattern | undefined;
  private params: CpaParams | undefined;
  private config: SavedConfig | undefined;
  private firstAudioAt = 0;
  private samples = 0;
  private idle: NodeJS.Timeout | undefined;
  private grace: NodeJS.Timeout | undefined;
  private closed = false;
  private voice: Int16Array[] | undefined;
  private odd: Buffer | undefined;
  private frames = 0;
  private log: Logger;
  /** Requests are answered in the order they came. */
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly server: CpaServer,
    private readonly o: CpaServerOptions,
    private readonly limits: CpaServerLimits,
  ) {
    this.log = o.log;
  }

  start(): void {
    this.touch();
    this.ws.on('message', (data, isBinary) => {
      try {
        this.touch();
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
        if (buf.length > this.limits.maxFrameBytes) {
          const e = new ProtocolError(
            ERROR.frameTooLarge,
            `frame of ${buf.length} bytes is over the limit of ${this.limits.maxFrameBytes}`,
          );
          // After the answers to the requests before it (their configuration may still be read from the catalog).
          if (this.pending) this.queue = this.queue.then(() => this.fail(e));
          else this.fail(e);
          return;
        }
        if (isBinary) {
          // Audio waits for the requests before it (a session being looked up): order is the protocol's.
          if (this.pending) this.queue = this.queue.then(() => this.guard(() => this.audio(buf)));
          else this.audio(buf);
        } else {
          const text = buf.toString('utf8');
          this.pending++;
          this.queue = this.queue.then(() => this.text(text)).finally(() => this.pending--);
        }
      } catch (e) {
        this.fail(e);
      }
    });
    this.ws.on('close', () => this.finish());
    this.ws.on('error', () => this.finish());
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.reply({ result: ERROR.idleTimeout, reason: `nothing received for ${this.limits.idleTimeoutMs} ms` });
      this.server.countError(ERROR.idleTimeout);
      this.close(1000, 'idle');
    }, this.limits.idleTimeoutMs);
    this.idle.unref();
  }

  private reply(body: Record<string, unknown>): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) return this.close(1008, 'replies not read');
    this.ws.send(JSON.stringify(this.callUuid ? { ...body, call_uuid: this.callUuid } : body));
  }

  private fail(e: unknown): void {
    if (e instanceof ProtocolError) {
      this.server.countError(e.code);
      this.reply({ result: e.code, reason: e.message });
      // A session that cannot go on ends; a bad request before one leaves the connection usable.
      if (e.code === ERROR.frameTooLarge || e.code === ERROR.sessionTooLong) this.close(1009, e.message);
      return;
    }
    this.log.error({ err: (e as Error).message }, 'CPA connection failed');
    this.close(1011, 'internal error');
  }

  private async text(text: string): Promise<void> {
    try {
      const r = parseRequest(text);
      this.server.stats.requests++;
      if (r.kind === 'stop') return this.stop('client sent stop');
      if (r.kind === 'set_cpa_params') {
        await this.o.configs.set(configKey(r.tenant, r.name), r.config);
        this.log.info({ tenant: r.tenant, config: r.name }, 'CPA configuration saved');
        return this.reply({ result: 'OK', reason: `configuration ${configKey(r.tenant, r.name)} saved` });
      }
      // Requests run one at a time (the queue in start()): no other can be starting a session now.
      if (this.session) throw new ProtocolError(ERROR.missingFields, 'a CPA session is already running on this connection');
      await this.begin(r);
    } catch (e) {
      this.fail(e);
    }
  }

  private async begin(r: CpaRequest): Promise<void> {
    const config = await this.o.configs.get(configKey(r.tenant, r.name));
    if (!config) throw new ProtocolError(ERROR.configNotFound, `configuration ${configKey(r.tenant, r.name)} not found`);
    if (config.log_voice && !this.o.voiceDir)
      throw new ProtocolError(
        ERROR.configNotFound,
        `configuration ${configKey(r.tenant, r.name)} has log_voice on, and this server keeps no voice (set cpa.server.voiceDir)`,
      );
    const params = checkParams(config.params);
    const denied = this.server.admit(r.tenant);
    if (denied) throw new ProtocolError(denied.code as never, denied.reason);
    this.req = r;
    this.callUuid = r.callUuid ?? randomUUID();
    this.params = params;
    this.config = config;
    // report_events filters what is sent (send() below), not what is analysed.
    this.session = new CpaSession(liveParams(params), r.sampleRate);
    this.pattern = new EnergyPattern(r.sampleRate / 10);
    if (config.log_voice) this.voice = [];
    this.log = this.o.log.child({ call_uuid: this.callUuid, tenant: r.tenant, config: r.name, pod_id: r.podId });
    this.log.info({ sampling_rate: r.sampleRate }, 'CPA session started');
    this.reply({ result: 'OK', reason: 'CPA session started, send audio' });
  }

  private audio(buf: Buffer): void {
    if (this.closed) return;
    const s = this.session;
    if (!s) {
      throw new ProtocolError(ERROR.audioBeforeRequest, 'audio received before a CPA request');
    }
    if (s.done) return;
    if (!this.firstAudioAt) this.firstAudioAt = performance.now();
    // Frames may split a sample: keep the odd byte for the next frame.
    let bytes = this.odd ? Buffer.concat([this.odd, buf]) : buf;
    this.odd = undefined;
    if (bytes.length & 1) {
      this.odd = Buffer.from(bytes.subarray(bytes.length - 1));
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const pcm = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(i * 2);
    this.frames++;
    this.samples += pcm.length;
    this.pattern!.push(pcm);
    this.voice?.push(pcm);
    this.send(s.push(pcm));
    if ((this.samples * 1000) / this.req!.sampleRate > this.limits.maxSessionMs) {
      this.send(s.end());
      throw new ProtocolError(ERROR.sessionTooLong, `session over its limit of ${this.limits.maxSessionMs} ms of audio`);
    }
    if (s.done) this.afterBreak();
  }

  private send(events: CpaEvent[]): void {
    const p = this.params!;
    for (const e of events) {
      const isBreak = p.break_events.includes(String(e.result));
      if (p.report_events.length && !p.report_events.includes(String(e.result)) && !isBreak) continue;
      const result: CpaResult = {
        ...e,
        reason: e.cause ?? String(e.result),
        break: isBreak,
        max_energy: Math.round(this.pattern!.maxEnergy),
        pattern: this.pattern!.toString(),
        duration: Math.round((this.samples * 1000) / this.req!.sampleRate),
        request_count: this.server.stats.requests,
        real_time: this.firstAudioAt ? Math.round(performance.now() - this.firstAudioAt) : 0,
        call_uuid: this.callUuid,
      };
      this.reply(result as unknown as Record<string, unknown>);
    }
  }

  private afterBreak(): void {
    if (this.grace) return;
    this.grace = setTimeout(() => this.close(1000, 'analysis finished'), this.limits.breakGraceMs);
    this.grace.unref();
  }

  private stop(why: string): void {
    if (this.session && !this.session.done) this.send(this.session.end());
    this.log.info({ why }, 'CPA session stopped');
    this.close(1000, 'stopped');
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    // Replies already queued go out before the close frame (ws sends in order).
    this.ws.close(code, reason.slice(0, 120));
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    clearTimeout(this.grace);
    if (this.session && this.req) {
      this.server.release(this.req.tenant);
      if (this.config?.log_rtp_history)
        this.log.info({ frames: this.frames, samples: this.samples, pattern: this.pattern?.toString() }, 'CPA session frame history');
      if (this.voice && this.o.voiceDir) {
        const file = join(this.o.voiceDir, `${this.callUuid.replace(/[^A-Za-z0-9._-]/g, '_')}.wav`);
        const all = new Int16Array(this.samples);
        let off = 0;
        for (const f of this.voice) {
          all.set(f, off);
          off += f.length;
        }
        writeFile(file, encodeWav(all, this.req.sampleRate)).catch((e: unknown) =>
          this.log.warn({ err: (e as Error).message, file }, 'log_voice: could not write the audio'),
        );
      }
      this.session = undefined;
    }
  }
}
