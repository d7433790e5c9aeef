import { RealFft } from '../dsp/fft';

// One analysis frame every HOP samples over a WINDOW-sample Hann window at 8 kHz: 32 ms windows, 16 ms
// hops, 31.25 Hz bins. Everything the detectors need comes out of this one spectrum.
export const SAMPLE_RATE = 8000;
export const WINDOW = 256;
export const HOP = 128;
export const BIN_HZ = SAMPLE_RATE / WINDOW;
const BINS = WINDOW / 2 + 1;
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
  readonly features: FrameFeatures = { bandDb: -120, peakHz: 0, purity: 0, peakSnrDb: 0, peakPower: 0, overNoiseDb: 0 };

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
      for (let k = 0; k < BINS; k++) noise[k] = spec[k]!;
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
    f.peakHz = (kp + Math.max(-0.5, Math.min(0.5, delta))) * BIN_HZ;
    return f;
  }

  /** Fold the current spectrum into the noise estimate (call on frames judged to be line noise). */
  learnNoise(fast: boolean): void {
    const a = fast ? 0.5 : 0.05;
    for (let k = 0; k < BINS; k++) this.noise[k] = this.noise[k]! + a * (this.spec[k]! - this.noise[k]!);
  }
}
