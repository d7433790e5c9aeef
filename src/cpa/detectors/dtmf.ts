// DTMF (ITU-T Q.23 frequencies, Q.24 timing): Goertzel filters on 205-sample blocks (25.6 ms, 39 Hz
// resolution) every 102 samples, so any tone of 40 ms or more fills at least one block, and any gap of
// 40 ms or more empties one.

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];
const N = 205;
const STEP = 102;
const FREQS = [...ROWS, ...COLS];
const COEF = Float64Array.from(FREQS, (f) => 2 * Math.cos((2 * Math.PI * f) / 8000));
// Off-nominal probes at +-5 %: a tone nearer to them than to the nominal frequency (more than ~2.5 % off)
// is refused. Q.24 asks acceptance within 1.5 % and rejection beyond 3.5 %.
const PROBE_LO = Float64Array.from(FREQS, (f) => 2 * Math.cos((2 * Math.PI * f * 0.95) / 8000));
const PROBE_HI = Float64Array.from(FREQS, (f) => 2 * Math.cos((2 * Math.PI * f * 1.05) / 8000));

// A clean key fills one block with its two tones; a weaker match (off-frequency, noisy line) must hold
// for two blocks in a row, which speech rarely does.
const SURE_SHARE = 0.75;
const MIN_SHARE = 0.4;
const MAX_TWIST_DB = 8;
const MIN_RMS = 60; // about -55 dBFS

function goertzel(x: Float32Array, start: number, coef: number): number {
  let s1 = 0;
  let s2 = 0;
  const n = x.length;
  for (let i = 0, j = start; i < N; i++, j = j + 1 === n ? 0 : j + 1) {
    const s0 = x[j]! + coef * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coef * s1 * s2;
}

export interface DtmfHit {
  digit: string;
  atMs: number;
}

export class DtmfDetector {
  private readonly ring = new Float32Array(256);
  private pos = 0;
  private filled = 0;
  private sinceBlock = 0;
  private samples = 0;
  private current = '';
  private lastSeen = '';
  private readonly power = new Float64Array(8);

  /** A key is down right now (its tones are not voice). */
  get active(): boolean {
    return this.current !== '';
  }

  /** Feed one 8 kHz sample; returns a digit when a new key press is recognised. */
  push(s: number): DtmfHit | undefined {
    this.ring[this.pos] = s;
    this.pos = (this.pos + 1) & 255;
    this.samples++;
    if (this.filled < N) this.filled++;
    if (++this.sinceBlock < STEP || this.filled < N) return undefined;
    this.sinceBlock = 0;
    const { digit: seen, share } = this.block();
    // A weak block counts only when the block before it saw the same key.
    const digit = seen && (share >= SURE_SHARE || seen === this.lastSeen) ? seen : '';
    this.lastSeen = seen;
    if (digit === this.current) return undefined;
    this.current = digit;
    // Reported at the block's start: the key was down by then.
    return digit ? { digit, atMs: ((this.samples - N) * 1000) / 8000 } : undefined;
  }

  private block(): { digit: string; share: number } {
    const start = (this.pos - N + 256) & 255;
    let energy = 0;
    for (let i = 0, j = start; i < N; i++, j = (j + 1) & 255) energy += this.ring[j]! * this.ring[j]!;
    const none = { digit: '', share: 0 };
    if (energy / N < MIN_RMS * MIN_RMS) return none;
    for (let k = 0; k < 8; k++) this.power[k] = goertzel(this.ring, start, COEF[k]!);
    const best = (from: number) => {
      let b = from;
      for (let k = from + 1; k < from + 4; k++) if (this.power[k]! > this.power[b]!) b = k;
      return b;
    };
    const r = best(0);
    const c = best(4);
    const pr = this.power[r]!;
    const pc = this.power[c]!;
    // A sinusoid of amplitude A gives Goertzel power (A N / 2)^2 and block energy N A^2 / 2.
    const share = (2 * (pr + pc)) / (N * energy);
    if (share < MIN_SHARE) return none;
    const twist = 10 * Math.log10(pc / pr);
    if (Math.abs(twist) > MAX_TWIST_DB) return none;
    // The other filters of each group must be well below the winner (a chord or speech harmonics are not DTMF).
    for (let k = 0; k < 8; k++) {
      if (k === r || k === c) continue;
      if (this.power[k]! * 6.3 > (k < 4 ? pr : pc)) return none;
    }
    for (const k of [r, c]) {
      if (goertzel(this.ring, start, PROBE_LO[k]!) > this.power[k]! || goertzel(this.ring, start, PROBE_HI[k]!) > this.power[k]!)
        return none;
    }
    return { digit: KEYS[r]![c - 4]!, share };
  }
}
