// A client of the iraCPA WebSocket protocol: what a dialer would write, and what our live tap uses when
// cpa.serviceUrl points at a `cpa serve`. One connection per call, as the protocol has it.
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import type { CpaResult } from './server';

export interface CpaSessionRequest {
  url: string;
  tenant: string;
  config: string;
  sampleRate?: 8000 | 16000;
  callUuid?: string;
  podId?: string;
  /** How long the server may take to accept the request (default 3 s). */
  timeoutMs?: number;
  /** wss:// with a private CA: its PEM certificate(s). */
  ca?: string | Buffer;
}

/** A reply the server sent for a request (result "OK" or an error code with its reason). */
export class CpaRequestError extends Error {
  override name = 'CpaRequestError';
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super(`CPA error ${code}: ${reason}`);
  }
}

function open(url: string, timeoutMs: number, ca?: string | Buffer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...(ca ? { ca } : {}) });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function firstReply(ws: WebSocket, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer from the CPA server within ${timeoutMs} ms`)), timeoutMs);
    const onClose = () => {
      clearTimeout(t);
      reject(new Error('the CPA server closed the connection'));
    };
    ws.once('close', onClose);
    ws.once('message', (data) => {
      clearTimeout(t);
      ws.off('close', onClose);
      try {
        resolve(JSON.parse(String(data)) as Record<string, unknown>);
      } catch {
        reject(new Error('the CPA server answered something that is not JSON'));
      }
    });
  });
}

/** Saves a named configuration (set_cpa_params); rejects with the server's code and reason. */
export async function setCpaParams(
  url: string,
  tenant: string,
  config: string,
  params: Record<string, unknown>,
  timeoutMs = 3000,
): Promise<void> {
  const ws = await open(url, timeoutMs);
  try {
    const reply = firstReply(ws, timeoutMs);
    ws.send(JSON.stringify({ request_name: 'set_cpa_params', tenant_id: tenant, config_name: config, analysis: 'amd', ...params }));
    const r = await reply;
    if (r.result !== 'OK') throw new CpaRequestError(String(r.result), String(r.reason));
  } finally {
    ws.close();
  }
}

/**
 * One call's analysis on a CPA server. Emits 'result' (CpaResult) for each event, and 'close' when the
 * connection ends (`lost` true when it ended before the client stopped and before a break event).
 */
export class RemoteCpaSession extends EventEmitter {
  private stopped = false;
  private broke = false;

  private constructor(
    private readonly ws: WebSocket,
    readonly callUuid: string,
  ) {
    super();
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let r: CpaResult;
      try {
        r = JSON.parse(String(data)) as CpaResult;
      } catch {
        return;
      }
      if (r.break) this.broke = true;
      this.emit('result', r);
    });
    ws.on('close', () => this.emit('close', { lost: !this.stopped && !this.broke }));
    ws.on('error', () => undefined); // 'close' follows
  }

  static async open(r: CpaSessionRequest): Promise<RemoteCpaSession> {
    const timeoutMs = r.timeoutMs ?? 3000;
    const ws = await open(r.url, timeoutMs, r.ca);
    try {
      const reply = firstReply(ws, timeoutMs);
      ws.send(
        JSON.stringify({
          tenant_id: r.tenant,
          config_name: r.config,
          sampling_rate: r.sampleRate ?? 8000,
          ...(r.callUuid ? { call_uuid: r.callUuid } : {}),
          ...(r.podId ? { pod_id: r.podId } : {}),
        }),
      );
      const first = await reply;
      if (first.result !== 'OK') throw new CpaRequestError(String(first.result), String(first.reason));
      return new RemoteCpaSession(ws, String(first.call_uuid ?? r.callUuid ?? ''));
    } catch (e) {
      ws.terminate();
      throw e;
    }
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends PCM16 samples (little-endian on the wire). */
  push(pcm: Int16Array): void {
    if (!this.open) return;
    const buf = Buffer.alloc(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i]!, i * 2);
    this.ws.send(buf);
  }

  /** No more audio: the server flushes the analysis (its last results arrive), then closes. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.open) this.ws.send(JSON.stringify({ request_name: 'stop' }));
  }

  /** Waits for the server to close (after stop or a break), at most `ms`. */
  closed(ms = 5000): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, ms);
      this.ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  terminate(): void {
    this.stopped = true;
    this.ws.terminate();
  }
}
