import { RealFft } from '../dsp/fft';
import { RINGBACK_HIGH_HZ, RINGBACK_LOW_HZ } from './ringback';

// One analysis frame every HOP samples over a WINDOW-sample Hann window at 8 kHz: 32 ms windows, 16 ms
// hops, 31.25 Hz bins. Everything the detectors need comes out of this one spectrum.
export const SAMPLE_RATE = 8000;
export const WINDOW = 256;
export const HOP = 128;
export const BIN_HZ = SAMPLE_RATE / WINDOW;
const BINS = WINDOW / 2 + 1;
// The bins ringback tones fall in.
const RING_K_LO = Math.floor(RINGBACK_LOW_HZ / BIN_HZ);
const RING_K_HI = Math.ceil(RINGBACK_HIGH_HZ / BIN_HZ);
const TOP_HZ = 3500;

const fft = new RealFft(WINDOW); // tables and scratch shared by every session (single-threaded, synchronous)
const hann = Float64Array.from({ length: WINDOW }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / WINDOW));
// Hann window power gain, so band power reads as mean-square sample power.
const WINDOW_POWER = hann.reduce((s, w) => s + w * w, 0);

export interface FrameFeatures {
  /** Band power (minimum_frequency..3500 Hz) as dB relative to full scale. */
  bandDb: number;
  /** Strongest bin's frequency (interpolated), Hz. */
  peakHz: number;
  /** Share of the band's power above the noise floor that sits in the peak's main lobe (0..1). */
  purity: number;
  /** Peak main-lobe power over the noise floor in the same bins, dB. */
  peakSnrDb: number;
  /** Main-lobe power of the peak, linear (for stability checks). */
  peakPower: number;
  /** Band power against the tracked noise spectrum's band power, dB. */
  overNoiseDb: number;
  /**
   * Share of the above-noise power in the peak and its harmonics (2x, 3x, ... the peak's frequency): a square
   * or sawtooth beep is one tone with harmonics, as pure in this sense as a sine is in `purity`.
   */
  harmonicPurity: number;
  /** The peak's share of the power in it and its harmonics: a beep's fundamental carries most of it. */
  fundamentalShare: number;
  /** Share of the above-noise power in 380-500 Hz, where every ringback tone lies. */
  ringbackShare: number;
}

/** Computes a frame's features; tracks a per-bin noise spectrum fed by the caller on non-voice frames. */
export class SpectrumFrame {
  private readonly buf = new Float64Array(WINDOW);
  private readonly spec = new Float64Array(BINS);
  /** Per-bin noise power estimate. */
  private readonly noise = new Float64Array(BINS);
  private noiseInit = false;
  private readonly kMin: number;
  private readonly kMax: number;
  readonly features: FrameFeatures = {
    bandDb: -120,
    peakHz: 0,
    purity: 0,
    peakSnrDb: 0,
    peakPower: 0,
    overNoiseDb: 0,
    harmonicPurity: 0,
    fundamentalShare: 0,
    ringbackShare: 0,
  };

  constructor(minimumFrequency: number) {
    this.kMin = Math.max(1, Math.ceil(minimumFrequency / BIN_HZ));
    this.kMax = Math.min(BINS - 3, Math.floor(TOP_HZ / BIN_HZ));
  }

  /** Analyse the last WINDOW samples (oldest first, in a ring starting at `start`). */
  analyse(ring: Float32Array, start: number): FrameFeatures {
    const n = ring.length;
    for (let i = 0, j = start; i < WINDOW; i++, j = j + 1 === n ? 0 : j + 1) this.buf[i] = ring[j]! * hann[i]!;
    fft.power(this.buf, this.spec);
    const spec = this.spec;
    const noise = this.noise;
    if (!this.noiseInit) {
      // The first frame seeds the noise estimate, capped at its median bin: a tone already there at the answer
      // (a SIT, a fax's CED) must stand out from the start, not be learnt as the line.
      const band = Array.from(spec.subarray(this.kMin, this.kMax + 1)).sort((x, y) => x - y);
      const median = band[band.length >> 1]!;
      for (let k = 0; k < BINS; k++) noise[k] = Math.min(spec[k]!, median);
      this.noiseInit = true;
    }
    let total = 0;
    let noiseTotal = 0;
    let kp = this.kMin;
    let pmax = -1;
    for (let k = this.kMin; k <= this.kMax; k++) {
      const p = spec[k]!;
      total += p;
      noiseTotal += noise[k]!;
      if (p > pmax) {
        pmax = p;
        kp = k;
      }
    }
    // Hann main lobe: +-2 bins hold nearly all of a pure tone's power.
    let lobe = 0;
    let lobeNoise = 0;
    for (let k = kp - 2; k <= kp + 2; k++) {
      lobe += spec[k]!;
      lobeNoise += noise[k]!;
    }
    const excess = total - noiseTotal;
    const f = this.features;
    f.bandDb = 10 * Math.log10(total / (WINDOW_POWER * (WINDOW / 2)) / (32768 * 32768) + 1e-12);
    f.purity = excess > 0 ? Math.min(1, Math.max(0, (lobe - lobeNoise) / excess)) : 0;
    f.peakSnrDb = 10 * Math.log10((lobe + 1e-9) / (lobeNoise + 1e-9));
    f.peakPower = lobe;
    f.overNoiseDb = 10 * Math.log10((total + 1e-9) / (noiseTotal + 1e-9));
    // Parabolic interpolation on log power for a frequency finer than the bin spacing.
    const a = Math.log(spec[kp - 1]! + 1e-9);
    const b = Math.log(spec[kp]! + 1e-9);
    const c = Math.log(spec[kp + 1]! + 1e-9);
    const den = a - 2 * b + c;
    const delta = den < 0 ? (0.5 * (a - c)) / den : 0;
    let low = 0;
    for (let k = RING_K_LO; k <= RING_K_HI; k++) low += Math.max(0, spec[k]! - noise[k]!);
    f.ringbackShare = excess > 0 ? Math.min(1, low / excess) : 0;
    const kExact = kp + Math.max(-0.5, Math.min(0.5, delta));
    f.peakHz = kExact * BIN_HZ;
    // The harmonics' main lobes, where they fall in the band: a lobe counts only if its own peak sits at h times
    // the fundamental (within a third of a bin, ~10 Hz), so two unrelated tones (DTMF 697 + 1336 Hz) are not
    // taken for a tone and its second harmonic.
    let harm = 0;
    let harmNoise = 0;
    for (let h = 2; ; h++) {
      const want = h * kExact;
      const kc = Math.round(want);
      if (kc + 3 > this.kMax) break;
      let km = kc;
      for (let k = kc - 1; k <= kc + 1; k++) if (spec[k]! > spec[km]!) km = k;
      const la = Math.log(spec[km - 1]! + 1e-9);
      const lb = Math.log(spec[km]! + 1e-9);
      const lc = Math.log(spec[km + 1]! + 1e-9);
      const d = la - 2 * lb + lc;
      const at = km + (d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (la - lc)) / d)) : 0);
      if (Math.abs(at - want) > 0.35) continue;
      for (let k = km - 2; k <= km + 2; k++) {
        harm += spec[k]!;
        harmNoise += noise[k]!;
      }
    }
    const fund = Math.max(0, lobe - lobeNoise);
    const over = fund + Math.max(0, harm - harmNoise);
    f.harmonicPurity = excess > 0 ? Math.min(1, over / excess) : 0;
    f.fundamentalShare = over > 0 ? fund / over : 0;
    return f;
  }

  /** Fold the current spectrum into the noise estimate (call on frames judged to be line noise). */
  learnNoise(fast: boolean): void {
    const a = fast ? 0.5 : 0.05;
    for (let k = 0; k < BINS; k++) this.noise[k] = this.noise[k]! + a * (this.spec[k]! - this.noise[k]!);
  }
}
