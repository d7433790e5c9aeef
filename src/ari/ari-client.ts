// The only module that imports `ari-client` (frozen since 2020). Everything else talks to the narrow
// AriPort below, so a small typed REST + WebSocket client can replace it without touching call logic.
import { EventEmitter } from 'node:events';
import { Agent } from 'node:http';
import * as ari from 'ari-client';
import type { Logger } from '../log';

/** ARI event as Asterisk sends it (JSON); only the fields we use are typed. */
export interface AriEvent {
  type: string;
  application?: string;
  timestamp?: string;
  args?: string[];
  channel?: AriChannel;
  bridge?: { id: string };
  playback?: { id: string; state?: string; target_uri?: string };
  cause?: number;
  cause_txt?: string;
  digit?: string;
  [k: string]: unknown;
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller?: { name: string; number: string };
  connected?: { name: string; number: string };
  dialplan?: { context: string; exten: string; priority: number };
  channelvars?: Record<string, string>;
}

export interface OriginateRequest {
  endpoint: string;
  app: string;
  appArgs: string;
  channelId: string;
  otherChannelId?: string;
  callerId?: string;
  timeoutSec: number;
  originator?: string;
  variables?: Record<string, string>;
}

/** What the call logic needs from ARI. Every method rejects with AriError on an HTTP error. */
export interface AriPort {
  answer(channelId: string): Promise<void>;
  hangup(channelId: string, reason?: string): Promise<void>;
  originate(req: OriginateRequest): Promise<void>;
  createBridge(bridgeId: string, type: 'mixing' | 'holding', name?: string): Promise<void>;
  addToBridge(bridgeId: string, channelIds: string[]): Promise<void>;
  destroyBridge(bridgeId: string): Promise<void>;
  playOnChannel(channelId: string, media: string, playbackId: string): Promise<void>;
  playOnBridge(bridgeId: string, media: string, playbackId: string): Promise<void>;
  /** Snoop on a channel's audio (spy 'in' = what the channel sends us) into a new channel in our app. */
  snoop(channelId: string, snoopId: string, app: string, spy: 'in' | 'out' | 'both', appArgs: string): Promise<void>;
  /** An externalMedia channel streaming RTP to `externalHost`; returns the Asterisk side's address:port. */
  externalMedia(req: { channelId: string; app: string; externalHost: string; format: string }): Promise<{ source: string }>;
  stopPlayback(playbackId: string): Promise<void>;
  getVariable(channelId: string, name: string): Promise<string>;
  setVariable(channelId: string, name: string, value: string): Promise<void>;
  listChannels(): Promise<AriChannel[]>;
  listBridges(): Promise<{ id: string; channels: string[]; name?: string }[]>;
}

// swagger-client (inside ari-client) console.logs a "deprecated version of Swagger" notice on every
// connect: ARI's resources.json is Swagger 1.2 by design. Drop exactly that line, nothing else.
const consoleLog = console.log.bind(console);
console.log = (...args: unknown[]) => {
  const first = args[0];
  if (Array.isArray(first) && typeof first[0] === 'string' && first[0].includes('deprecated version of Swagger')) return;
  consoleLog(...args);
};

// swagger-client's SwaggerApi.fail() calls the failure callback (ari-client rejects its promise) and then
// throws the message from inside an HTTP callback: an uncaught exception that would kill the service
// whenever Asterisk answers HTTP but ARI is not ready yet (Asterisk starting). Keep the callback, drop
// the throw. swagger-client 2.0.26 is pinned by ari-client 2.2.0, so this cannot drift under us.
{
  const swaggerPath = require.resolve('swagger-client', { paths: [require.resolve('ari-client')] });
  const { SwaggerApi } = require(swaggerPath) as { SwaggerApi: { prototype: { fail(m: unknown): void; failure(m: unknown): void } } };
  SwaggerApi.prototype.fail = function fail(this: { failure(m: unknown): void }, message: unknown) {
    this.failure(message);
  };
}

// ari-client's REST calls go through swagger-client's 2012 HTTP layer (shred) on Node's global agent,
// which keeps connections alive since Node 19. Under bursts (50 calls setting up at once) a reused
// connection to Asterisk's HTTP server could leave a request unanswered forever: seen as a call that
// Asterisk answered while our answer() never returned. One connection per request, as in 2020.
// (require, not import: the assignment must reach the real module object, not an interop copy.)
(require('node:http') as { globalAgent: Agent }).globalAgent = new Agent({ keepAlive: false, maxSockets: 64 });

/** An ARI request failed: `status` is the HTTP status (504 for our own timeout, 503 when not connected). */
export class AriError extends Error {
  override name = 'AriError';
  readonly code = 'ARI_REQUEST_FAILED';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
  /** The resource is gone (already hung up / destroyed): the usual outcome of a race at hangup. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

function wrapError(e: unknown): AriError {
  if (e instanceof AriError) return e;
  const err = e as { message?: string; statusCode?: number; status?: number };
  // swagger-client puts the HTTP body text in message; ARI bodies are {"message": "..."}.
  let msg = err?.message ?? String(e);
  try {
    const body = JSON.parse(msg) as { message?: string };
    if (body.message) msg = body.message;
  } catch {
    /* not JSON */
  }
  let status = err?.statusCode ?? err?.status;
  if (status === undefined) {
    if (/not found/i.test(msg)) status = 404;
    else if (/not in stasis/i.test(msg)) status = 422;
  }
  return new AriError(msg, status);
}

// No REST call may hang a call forever: Asterisk answers in milliseconds, so this is generous.
const REST_TIMEOUT_MS = 15_000;

// Recent REST round trips (ms): how loaded Asterisk is, for backpressure.
const latencies: number[] = [];
let latencyNext = 0;
const LATENCY_WINDOW = 32;

/** The median of the last 32 ARI request times, in ms (0 before any). */
export function ariLatencyMs(): number {
  if (!latencies.length) return 0;
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AriError(`ARI request timed out after ${REST_TIMEOUT_MS} ms`, 504)), REST_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    throw wrapError(e);
  } finally {
    clearTimeout(timer);
    latencies[latencyNext] = performance.now() - t0;
    latencyNext = (latencyNext + 1) % LATENCY_WINDOW;
  }
}

export interface AriConnectionOptions {
  url: string;
  username: string;
  password: string;
  app: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  log: Logger;
}

/**
 * Connects to ARI and keeps connected: retries with exponential backoff while Asterisk is down, and starts
 * over when ari-client gives up reconnecting its WebSocket (Asterisk restarted). Emits:
 *   'event' (AriEvent)  every event for our Stasis app
 *   'connected'         each time the WebSocket is (re)established
 *   'disconnected'      when the WebSocket is lost
 */
export class AriConnection extends EventEmitter implements AriPort {
  private client: ari.Client | undefined;
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private wsUp = false;

  constructor(private readonly opts: AriConnectionOptions) {
    super();
  }

  /** The event WebSocket is up (REST may work a little longer while it reconnects; events do not). */
  get connected(): boolean {
    return this.client !== undefined && this.wsUp;
  }

  /** Resolves on the first successful connection; keeps retrying in the background until stop(). */
  start(): Promise<void> {
    this.stopped = false;
    this.connecting ??= new Promise<void>((resolve) => {
      this.once('connected', () => resolve());
      this.tryConnect();
    });
    return this.connecting;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    try {
      c?.stop();
    } catch {
      /* already closed */
    }
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return;
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectMinMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.opts.log.warn({ attempt: this.attempt, retryInMs: delay, reason, url: this.opts.url }, 'ARI unavailable, retrying');
    this.timer = setTimeout(() => this.tryConnect(), delay);
  }

  private tryConnect(): void {
    if (this.stopped) return;
    const { url, username, password, app, log } = this.opts;
    ari
      .connect(url, username, password)
      .then(async (client) => {
        if (this.stopped) {
          client.stop();
          return;
        }
        // '*' (every event) is not in the typings; the raw JSON is all we want from it.
        (client as unknown as EventEmitter).on('*', (event: unknown) => this.emit('event', event as AriEvent));
        client.on('WebSocketReconnecting', (err: Error) => {
          log.warn({ err: err?.message }, 'ARI WebSocket lost, reconnecting');
          this.wsUp = false;
          this.emit('disconnected');
        });
        client.on('WebSocketConnected', () => {
          this.attempt = 0;
          log.info({ url, app }, 'ARI WebSocket connected');
          this.client = client;
          this.wsUp = true;
          this.emit('connected');
        });
        client.on('WebSocketMaxRetries', (err: Error) => {
          // ari-client gave up; start from scratch (fresh swagger load) with our own backoff.
          this.client = undefined;
          this.wsUp = false;
          this.emit('disconnected');
          this.scheduleRetry(`WebSocket retries exhausted: ${err?.message ?? 'unknown'}`);
        });
        await client.start(app);
      })
      .catch((e: unknown) => {
        this.client = undefined;
        this.scheduleRetry(ariFailure((e as Error)?.message ?? String(e), username));
      });
  }

  private get c(): ari.Client {
    if (!this.client) throw new AriError('not connected to ARI', 503);
    return this.client;
  }

  answer(channelId: string): Promise<void> {
    return call(() => this.c.channels.answer({ channelId }));
  }

  hangup(channelId: string, reason = 'normal'): Promise<void> {
    return call(() => this.c.channels.hangup({ channelId, reason }));
  }

  async originate(req: OriginateRequest): Promise<void> {
    await call(() =>
      this.c.channels.originate({
        endpoint: req.endpoint,
        app: req.app,
        appArgs: req.appArgs,
        channelId: req.channelId,
        ...(req.otherChannelId ? { otherChannelId: req.otherChannelId } : {}),
        ...(req.callerId ? { callerId: req.callerId } : {}),
        ...(req.originator ? { originator: req.originator } : {}),
        ...(req.variables ? { variables: req.variables } : {}),
        timeout: req.timeoutSec,
      }),
    );
  }

  async createBridge(bridgeId: string, type: 'mixing' | 'holding', name?: string): Promise<void> {
    await call(() => this.c.bridges.create({ bridgeId, type, ...(name ? { name } : {}) }));
  }

  addToBridge(bridgeId: string, channelIds: string[]): Promise<void> {
    return call(() => this.c.bridges.addChannel({ bridgeId, channel: channelIds }));
  }

  destroyBridge(bridgeId: string): Promise<void> {
    return call(() => this.c.bridges.destroy({ bridgeId }));
  }

  async playOnChannel(channelId: string, media: string, playbackId: string): Promise<void> {
    await call(() => this.c.channels.play({ channelId, media, playbackId }));
  }

  async playOnBridge(bridgeId: string, media: string, playbackId: string): Promise<void> {
    await call(() => this.c.bridges.play({ bridgeId, media, playbackId }));
  }

  async snoop(channelId: string, snoopId: string, app: string, spy: 'in' | 'out' | 'both', appArgs: string): Promise<void> {
    await call(() => this.c.channels.snoopChannel({ channelId, snoopId, app, spy, appArgs }));
  }

  async externalMedia(req: { channelId: string; app: string; externalHost: string; format: string }): Promise<{ source: string }> {
    const ch = await call(() =>
      this.c.channels.externalMedia({
        channelId: req.channelId,
        app: req.app,
        external_host: req.externalHost,
        format: req.format,
        encapsulation: 'rtp',
        transport: 'udp',
        direction: 'both',
      }),
    );
    // Asterisk reports the local RTP address/port it sends from in the response's channelvars.
    const vars = (ch as unknown as { channelvars?: Record<string, string> }).channelvars ?? {};
    let addr = vars.UNICASTRTP_LOCAL_ADDRESS;
    let port = vars.UNICASTRTP_LOCAL_PORT;
    if (!addr || !port) {
      addr = await this.getVariable(req.channelId, 'UNICASTRTP_LOCAL_ADDRESS');
      port = await this.getVariable(req.channelId, 'UNICASTRTP_LOCAL_PORT');
    }
    return { source: `${addr}:${port}` };
  }

  stopPlayback(playbackId: string): Promise<void> {
    return call(() => this.c.playbacks.stop({ playbackId }));
  }

  async getVariable(channelId: string, variable: string): Promise<string> {
    const v = await call(() => this.c.channels.getChannelVar({ channelId, variable }));
    return v.value;
  }

  setVariable(channelId: string, variable: string, value: string): Promise<void> {
    return call(() => this.c.channels.setChannelVar({ channelId, variable, value }));
  }

  async listChannels(): Promise<AriChannel[]> {
    const list = await call(() => this.c.channels.list());
    return list.map((ch) => ({ id: ch.id, name: ch.name, state: ch.state }));
  }

  async listBridges(): Promise<{ id: string; channels: string[]; name?: string }[]> {
    const list = await call(() => this.c.bridges.list());
    return list.map((b) => ({ id: b.id, channels: ([] as string[]).concat(b.channels), name: b.name }));
  }
}

/**
 * ari-client reports a refused login as "401 : undefined <url>": say who was refused and what to check, since
 * an admin reads this line in the journal, not the source.
 */
export function ariFailure(message: string, username: string): string {
  if (/^401\b/.test(message))
    return `Asterisk refused ARI user "${username}" (401): check ari.username (DC_ARI_USER) and ari.password (DC_ARI_PASSWORD or DC_ARI_PASSWORD_FILE) against ari.conf`;
  if (/^404\b/.test(message)) return `no ARI at this URL (404): is res_ari loaded and http.conf enabled? (${message})`;
  return message;
}
