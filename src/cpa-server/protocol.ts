// The iraCPA WebSocket protocol as dialers speak it: JSON text frames for requests and results, binary
// frames of 16-bit little-endian PCM for audio. This module only reads and checks messages; no I/O.
import { CpaParamError, resolveParams, type CpaEvent, type CpaParams } from '../cpa';

/** iraCPA result codes for errors (the document's), and ours for the limits it does not name. */
export const ERROR = {
  missingFields: '01',
  cannotSave: '02',
  configNotFound: '03',
  noLicence: '04',
  analyserNotFound: '05',
  audioBeforeRequest: '06',
  // ours: each a limit of this server, documented in the README
  frameTooLarge: '07',
  idleTimeout: '08',
  sessionTooLong: '09',
  serverFull: '10',
} as const;
export type ErrorCode = (typeof ERROR)[keyof typeof ERROR];

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A named configuration as stored: the engine's parameters plus the two session-level switches. */
export interface SavedConfig {
  params: Record<string, unknown>;
  log_voice: boolean;
  log_rtp_history: boolean;
}

export interface SetParamsRequest {
  kind: 'set_cpa_params';
  tenant: string;
  name: string;
  config: SavedConfig;
}

export interface CpaRequest {
  kind: 'cpa';
  tenant: string;
  name: string;
  sampleRate: 8000 | 16000;
  callUuid: string | undefined;
  podId: string | undefined;
}

/** Ours: the client has sent all its audio; the server flushes the analysis, answers and closes. */
export interface StopRequest {
  kind: 'stop';
}

export type Request = SetParamsRequest | CpaRequest | StopRequest;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SET_FIELDS = new Set(['request_name', 'tenant_id', 'config_name', 'analysis', 'log_voice', 'log_rtp_history']);
const CPA_FIELDS = new Set(['request_name', 'tenant_id', 'config_name', 'sampling_rate', 'call_uuid', 'pod_id', 'analysis']);
const UUID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The key a configuration is kept under: the same tenant/name as cpa.configs. */
export const configKey = (tenant: string, name: string): string => `${tenant}/${name}`;

function str(o: Record<string, unknown>, k: string, missing: string[]): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') {
    missing.push(k);
    return undefined;
  }
  if (typeof v !== 'string') throw new ProtocolError(ERROR.missingFields, `${k} must be a string`);
  return v;
}

function bool(o: Record<string, unknown>, k: string): boolean {
  const v = o[k];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new ProtocolError(ERROR.cannotSave, `${k} must be true or false`);
}

function names(o: Record<string, unknown>, missing: string[]): { tenant: string; name: string } {
  const tenant = str(o, 'tenant_id', missing);
  const name = str(o, 'config_name', missing);
  if (missing.length) throw new ProtocolError(ERROR.missingFields, `mandatory field(s) missing: ${missing.join(', ')}`);
  if (!NAME.test(tenant!)) throw new ProtocolError(ERROR.missingFields, 'tenant_id: letters, digits, _ . - (up to 64)');
  if (!NAME.test(name!)) throw new ProtocolError(ERROR.missingFields, 'config_name: letters, digits, _ . - (up to 64)');
  return { tenant: tenant!, name: name! };
}

/** Reads one text frame; a ProtocolError carries the code and the reason to send back. */
export function parseRequest(text: string): Request {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new ProtocolError(ERROR.missingFields, 'not JSON');
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ProtocolError(ERROR.missingFields, 'a request is a JSON object');
  const m = o as Record<string, unknown>;
  const rn = m.request_name;
  if (rn === 'stop') return { kind: 'stop' };
  const missing: string[] = [];
  if (rn === 'set_cpa_params') {
    const analysis = str(m, 'analysis', missing);
    const { tenant, name } = names(m, missing);
    if (analysis !== 'amd') throw new ProtocolError(ERROR.analyserNotFound, `analysis "${analysis}" not found (only "amd")`);
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (!SET_FIELDS.has(k)) params[k] = v;
    checkParams(params);
    return {
      kind: 'set_cpa_params',
      tenant,
      name,
      config: { params, log_voice: bool(m, 'log_voice'), log_rtp_history: bool(m, 'log_rtp_history') },
    };
  }
  if (rn !== undefined && rn !== 'cpa')
    throw new ProtocolError(ERROR.missingFields, `unknown request_name "${String(rn)}" (set_cpa_params, cpa)`);
  const unknown = Object.keys(m).filter((k) => !CPA_FIELDS.has(k));
  if (unknown.length) throw new ProtocolError(ERROR.missingFields, `unknown field(s) in a CPA request: ${unknown.join(', ')}`);
  const { tenant, name } = names(m, missing);
  if (m.analysis !== undefined && m.analysis !== 'amd')
    throw new ProtocolError(ERROR.analyserNotFound, `analysis "${String(m.analysis)}" not found (only "amd")`);
  const rate = m.sampling_rate === undefined ? 8000 : Number(m.sampling_rate);
  if (rate !== 8000 && rate !== 16000) throw new ProtocolError(ERROR.missingFields, 'sampling_rate: 8000 or 16000');
  const uuid = m.call_uuid;
  if (uuid !== undefined && (typeof uuid !== 'string' || !UUID.test(uuid)))
    throw new ProtocolError(ERROR.missingFields, 'call_uuid: up to 128 of letters, digits, . _ : -');
  const pod = m.pod_id;
  if (pod !== undefined && typeof pod !== 'string') throw new ProtocolError(ERROR.missingFields, 'pod_id must be a string');
  return { kind: 'cpa', tenant, name, sampleRate: rate, callUuid: uuid as string | undefined, podId: pod?.slice(0, 128) };
}

/** The engine's own validation, its complaint as error 02 naming the parameter. */
export function checkParams(params: Record<string, unknown>): CpaParams {
  try {
    return resolveParams(params);
  } catch (e) {
    if (e instanceof CpaParamError) throw new ProtocolError(ERROR.cannotSave, e.message);
    throw e;
  }
}

/**
 * The energy pattern sent with each result: one character per 100 ms of audio analysed, the block's RMS
 * level in 6 dB steps: '0' below -54 dBFS ... '9' at -6 dBFS and above. "0000579875300000" reads as half a
 * second of silence, a word rising and falling, silence again.
 */
export class EnergyPattern {
  private sum = 0;
  private n = 0;
  private readonly blocks: number[] = [];
  /** Largest block RMS so far (16-bit units). */
  maxEnergy = 0;

  constructor(private readonly blockSamples: number) {}

  push(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i++) {
      const s = pcm[i]!;
      this.sum += s * s;
      if (++this.n === this.blockSamples) {
        const rms = Math.sqrt(this.sum / this.n);
        if (rms > this.maxEnergy) this.maxEnergy = rms;
        this.blocks.push(rms);
        this.sum = 0;
        this.n = 0;
      }
    }
  }

  /** The last `maxChars` blocks (a long call keeps its recent past). */
  toString(maxChars = 600): string {
    return this.blocks
      .slice(-maxChars)
      .map((rms) => {
        const db = rms > 0 ? 20 * Math.log10(rms / 32768) : -120;
        return String(Math.max(0, Math.min(9, Math.floor((db + 60) / 6))));
      })
      .join('');
  }
}

/** What a result carries beyond the engine's event (server.ts fills them). */
export const RESULT_FIELDS = ['reason', 'break', 'max_energy', 'pattern', 'duration', 'request_count', 'real_time', 'call_uuid'] as const;

/** The engine's event inside a result: the protocol's own fields taken away. */
export function engineEvent(result: object): CpaEvent {
  return Object.fromEntries(
    Object.entries(result).filter(([k]) => !(RESULT_FIELDS as readonly string[]).includes(k)),
  ) as unknown as CpaEvent;
}
