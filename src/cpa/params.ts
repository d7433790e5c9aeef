// CPA parameters: the iraCPA names (canonical), their defaults and ranges, and the Voxeo names as aliases.
// Validation names the bad parameter and its allowed range; errors carry the iraCPA error code.

export const RESULT_CODES = ['LV', 'AM', 'BP', 'FX', 'MD', 'SIT', 'SL', 'BPSL', 'TO', 'DTMF', 'RING', 'unknown'] as const;
/** The results that decide a call (the first of them carries decision: true). */
export const DECISION_CODES: readonly string[] = ['LV', 'AM', 'FX', 'MD', 'SIT', 'TO', 'unknown'];
export type ResultCode = (typeof RESULT_CODES)[number];

export interface ToneSpec {
  name: string;
  freqHz: number;
  toleranceHz: number;
}

export interface CpaParams {
  /** Time after initial_silence_ignore within which the called party must start speaking; none: LV. */
  amd_time_limit: number;
  /** Give up after this much audio: TO when nothing was decided. */
  total_timeout: number;
  /** Smallest frame RMS (16-bit sample units) that can count as voice. */
  min_ambient_energy: number;
  /** Sounds shorter than 100 ms in this first stretch after the answer (off-hook clicks) are ignored. */
  initial_silence_ignore: number;
  /** After the first decision, silence this long emits SL; 0 turns it off. */
  silence_detect_limit: number;
  /** A beep followed by this much silence emits BPSL; 0 turns it off. */
  beep_to_silence_gap: number;
  /** A beep heard before any decision means a machine. */
  beep_is_am: boolean;
  /** Events after which the session stops listening. */
  break_events: string[];
  /** Only these events are reported (Voxeo maskevent); empty = all. The analysis itself is unchanged. */
  report_events: string[];
  /** Extra named tones, e.g. {"FX":"2100|5"} (frequency|tolerance in Hz). */
  tones: ToneSpec[];
  detect_dtmf: boolean;
  /** Drop energy bursts shorter than 50 ms (line clicks) before they reach voice detection. */
  suppress_spikes: boolean;
  /** Lowest frequency considered for tones and voice energy (Hz). */
  minimum_frequency: number;
  /** Voice threshold above the tracked noise floor, dB. */
  energy_lwm: number;
  /** Silence that ends an utterance (Voxeo maxsilence), ms. */
  maxsilence: number;
  /** Voice longer than this without a maxsilence pause is a machine greeting (Voxeo maxtime), ms. */
  maxtime: number;
  /** Report Voxeo result names (human, machine, beep, faxtone, ...) instead of iraCPA codes. */
  voxeo_results: boolean;
}

export const DEFAULT_PARAMS: CpaParams = {
  amd_time_limit: 1750,
  total_timeout: 15000,
  min_ambient_energy: 200,
  initial_silence_ignore: 750,
  silence_detect_limit: 2000,
  beep_to_silence_gap: 0,
  beep_is_am: true,
  break_events: [],
  report_events: [],
  tones: [],
  detect_dtmf: false,
  suppress_spikes: true,
  minimum_frequency: 250,
  energy_lwm: 5,
  maxsilence: 1100,
  maxtime: 3000,
  voxeo_results: false,
};

/** Voxeo parameter names mapped onto ours. `runtime` is total_timeout; `maskevent`/`maskstop` pick events. */
const ALIASES: Record<string, keyof CpaParams> = {
  maxsilence: 'maxsilence',
  maxtime: 'maxtime',
  runtime: 'total_timeout',
  maskstop: 'break_events',
  maskevent: 'report_events',
};

export const VOXEO_RESULT: Partial<Record<ResultCode, string>> = {
  LV: 'human',
  AM: 'machine',
  BP: 'beep',
  MD: 'modem',
  FX: 'faxtone',
  SIT: 'SIT',
  RING: 'ring',
  unknown: 'unknown',
};

const VOXEO_TO_CODE: Record<string, ResultCode> = Object.fromEntries(
  Object.entries(VOXEO_RESULT).map(([k, v]) => [v!.toLowerCase(), k as ResultCode]),
);

export class CpaParamError extends Error {
  override name = 'CpaParamError';
  /** iraCPA error code: 01 missing mandatory fields, 02 could not save config, 03 config not found, 05 analyser not found, 06 audio before initialisation. */
  constructor(
    message: string,
    readonly code: '01' | '02' | '03' | '05' | '06' = '01',
    readonly param?: string,
  ) {
    super(message);
  }
}

type Range = { min: number; max: number; zeroOff?: boolean };
const RANGES: Partial<Record<keyof CpaParams, Range>> = {
  amd_time_limit: { min: 1000, max: 3000 },
  total_timeout: { min: 10000, max: 600000 },
  min_ambient_energy: { min: 0, max: 10000 },
  initial_silence_ignore: { min: 0, max: 5000 },
  silence_detect_limit: { min: 1000, max: 10000, zeroOff: true },
  beep_to_silence_gap: { min: 0, max: 10000 },
  minimum_frequency: { min: 0, max: 1000 },
  energy_lwm: { min: 3, max: 30 },
  maxsilence: { min: 300, max: 5000 },
  maxtime: { min: 1000, max: 15000 },
};

function toCode(s: string): string {
  return VOXEO_TO_CODE[s.toLowerCase()] ?? s;
}

function parseTones(v: unknown): ToneSpec[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CpaParamError('tones: must be an object of name -> "frequency|tolerance", e.g. {"FX":"2100|5"}', '01', 'tones');
  }
  return Object.entries(v as Record<string, unknown>).map(([name, spec]) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*\|\s*(\d+(?:\.\d+)?)\s*$/.exec(String(spec));
    if (!m || !/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(name)) {
      throw new CpaParamError(
        `tones.${name}: must be "frequency|tolerance" in Hz (e.g. "2100|5") under a name of letters and digits, got ${JSON.stringify(spec)}`,
        '01',
        'tones',
      );
    }
    const freqHz = Number(m[1]);
    const toleranceHz = Number(m[2]);
    if (freqHz < 200 || freqHz > 3800 || toleranceHz > 200) {
      throw new CpaParamError(`tones.${name}: frequency must be 200-3800 Hz and tolerance at most 200 Hz, got ${spec}`, '01', 'tones');
    }
    return { name, freqHz, toleranceHz };
  });
}

/** Validates a parameter object (iraCPA or Voxeo names); unknown names and out-of-range values are refused. */
export function resolveParams(input: Record<string, unknown> = {}): CpaParams {
  const out: CpaParams = { ...DEFAULT_PARAMS, break_events: [], report_events: [], tones: [] };
  for (const [rawKey, v] of Object.entries(input)) {
    const key = (ALIASES[rawKey] ?? rawKey) as keyof CpaParams;
    if (!(key in DEFAULT_PARAMS)) {
      throw new CpaParamError(
        `unknown parameter "${rawKey}" (known: ${Object.keys(DEFAULT_PARAMS).join(', ')}, and the Voxeo names ${Object.keys(ALIASES).join(', ')})`,
        '01',
        rawKey,
      );
    }
    const def = DEFAULT_PARAMS[key];
    if (key === 'tones') {
      out.tones = parseTones(v);
    } else if (key === 'break_events' || key === 'report_events') {
      const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,|]+/).filter(Boolean) : undefined;
      if (!list || list.some((e) => typeof e !== 'string'))
        throw new CpaParamError(`${rawKey}: must be a list of event codes, e.g. ["LV","AM"]`, '01', rawKey);
      out[key] = (list as string[]).map(toCode);
    } else if (typeof def === 'boolean') {
      if (typeof v === 'boolean') (out[key] as boolean) = v;
      else if (v === 'true' || v === 'false') (out[key] as boolean) = v === 'true';
      else throw new CpaParamError(`${rawKey}: must be true or false, got ${JSON.stringify(v)}`, '01', rawKey);
    } else {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      const r = RANGES[key]!;
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw new CpaParamError(`${rawKey}: must be a number (${r.min}-${r.max}), got ${JSON.stringify(v)}`, '01', rawKey);
      if (!(r.zeroOff && n === 0) && (n < r.min || n > r.max)) {
        throw new CpaParamError(
          `${rawKey}: must be between ${r.min} and ${r.max}${r.zeroOff ? ' (or 0 for off)' : ''}, got ${n}`,
          '01',
          rawKey,
        );
      }
      (out[key] as number) = n;
    }
  }
  // Custom tones named after the built-in codes (FX, MD) are allowed and reported with that code.
  const known = new Set<string>([...RESULT_CODES, ...out.tones.map((t) => t.name)]);
  for (const key of ['break_events', 'report_events'] as const) {
    for (const e of out[key]) {
      if (!known.has(e)) throw new CpaParamError(`${key}: unknown event "${e}" (known: ${[...known].join(', ')})`, '01', key);
    }
  }
  return out;
}

/**
 * Parameters for live use (a call's tap, the CPA server): iraCPA codes, and every event reaches the
 * caller, whose actions need them; Voxeo names and report_events are output options of the file tools.
 */
export function liveParams(p: CpaParams): CpaParams {
  return p.voxeo_results || p.report_events.length ? { ...p, voxeo_results: false, report_events: [] } : p;
}
