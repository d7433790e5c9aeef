// Generated test signals at 8 kHz (or any rate): tones, noise, speech-like bursts. Deterministic noise.

export class Signal {
  private readonly parts: Float64Array[] = [];
  private seed = 12345;
  constructor(readonly rate = 8000) {}

  private rand(): number {
    // xorshift: deterministic, so a failing case fails the same way every run
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    return ((this.seed >>> 0) / 4294967296) * 2 - 1;
  }

  private n(ms: number): number {
    return Math.round((ms * this.rate) / 1000);
  }

  silence(ms: number): this {
    this.parts.push(new Float64Array(this.n(ms)));
    return this;
  }

  /** Sum of sines; dbfs is each tone's peak level. `am` adds amplitude modulation {hz, depth}. */
  tone(ms: number, freqs: number[], dbfs = -15, am?: { hz: number; depth: number }): this {
    const a = 32767 * 10 ** (dbfs / 20);
    const x = new Float64Array(this.n(ms));
    for (let i = 0; i < x.length; i++) {
      const t = i / this.rate;
      let v = 0;
      for (const f of freqs) v += Math.sin(2 * Math.PI * f * t);
      if (am) v *= 1 + am.depth * Math.sin(2 * Math.PI * am.hz * t);
      x[i] = a * v;
    }
    this.parts.push(x);
    return this;
  }

  /**
   * An answering machine's record tone as real machines make it: `shape` sine, square or sawtooth (band-limited
   * to 3.4 kHz, as the line would), `decayDb` the fall in level from its start to its end (a piezo's ring-down).
   */
  beep(ms: number, hz: number, dbfs = -15, o: { shape?: 'sine' | 'square' | 'saw'; decayDb?: number } = {}): this {
    const a = 32767 * 10 ** (dbfs / 20);
    const x = new Float64Array(this.n(ms));
    const shape = o.shape ?? 'sine';
    for (let i = 0; i < x.length; i++) {
      const t = i / this.rate;
      let v = 0;
      for (let h = 1; h * hz < 3400; h++) {
        const amp = shape === 'sine' ? (h === 1 ? 1 : 0) : shape === 'square' ? (h % 2 ? 4 / (Math.PI * h) : 0) : 2 / (Math.PI * h);
        if (amp) v += amp * Math.sin(2 * Math.PI * hz * h * t);
      }
      x[i] = a * v * 10 ** (-((o.decayDb ?? 0) * i) / x.length / 20);
    }
    this.parts.push(x);
    return this;
  }

  /**
   * Speech-like sound: voiced "syllables" (a gliding pitch with harmonics shaped by a formant-ish
   * envelope) of 120-260 ms with 40-120 ms dips between them, for `ms` in total.
   */
  speech(ms: number, dbfs = -20): this {
    const x = new Float64Array(this.n(ms));
    let i = 0;
    while (i < x.length) {
      const syl = this.n(120 + 70 * (this.rand() + 1));
      const f0 = 110 + 40 * (this.rand() + 1);
      const glide = 0.3 * this.rand();
      let phase = 0;
      for (let k = 0; k < syl && i + k < x.length; k++) {
        const env = Math.sin((Math.PI * k) / syl);
        const f = f0 * (1 + (glide * k) / syl);
        phase += (2 * Math.PI * f) / this.rate;
        let v = 0;
        for (let h = 1; h <= 25; h++) {
          const fh = f * h;
          if (fh > 3400) break;
          v += Math.sin(h * phase) * (1 / h) * (fh > 300 && fh < 1200 ? 2 : 1);
        }
        x[i + k] = env * v * 0.5 + 0.05 * this.rand();
      }
      i += syl + this.n(40 + 40 * (this.rand() + 1));
    }
    const a = 32767 * 10 ** (dbfs / 20);
    for (let k = 0; k < x.length; k++) x[k] = x[k]! * a;
    this.parts.push(x);
    return this;
  }

  /** White noise at `dbfs` RMS over everything so far from `fromMs` on (call last); before it the line stays as it is. */
  noise(dbfs: number, fromMs = 0): this {
    const a = 32767 * 10 ** (dbfs / 20) * Math.sqrt(3);
    let at = 0;
    const from = this.n(fromMs);
    for (const p of this.parts) for (let i = 0; i < p.length; i++, at++) if (at >= from) p[i] = p[i]! + a * this.rand();
    return this;
  }

  pcm(): Int16Array {
    const total = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Int16Array(total);
    let o = 0;
    for (const p of this.parts) for (let i = 0; i < p.length; i++) out[o++] = Math.max(-32768, Math.min(32767, Math.round(p[i]!)));
    return out;
  }

  /** Elapsed ms so far. */
  get ms(): number {
    return (this.parts.reduce((s, p) => s + p.length, 0) * 1000) / this.rate;
  }
}

/** Pushes in frames of `frame` samples (default 160: 20 ms at 8 kHz) and ends the session. */
export function run(
  session: { push(f: Int16Array): unknown[]; end(): unknown[] },
  pcm: Int16Array,
  frame = 160,
): { result: string; at_ms: number; [k: string]: unknown }[] {
  const out: unknown[] = [];
  for (let i = 0; i < pcm.length; i += frame) out.push(...session.push(pcm.subarray(i, i + frame)));
  out.push(...session.end());
  return out as { result: string; at_ms: number }[];
}

export const DTMF_FREQS: Record<string, [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  A: [697, 1633],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  B: [770, 1633],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  C: [852, 1633],
  '*': [941, 1209],
  '0': [941, 1336],
  '#': [941, 1477],
  D: [941, 1633],
};
