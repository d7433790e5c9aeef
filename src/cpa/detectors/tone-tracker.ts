import { HOP, SAMPLE_RATE, WINDOW, type FrameFeatures } from './spectrum-frame';

/** A stretch of one steady, pure tone. Times are audio ms from the start of the session. */
export interface ToneSegment {
  freqHz: number;
  startMs: number;
  endMs: number;
  /** Frames that made it up. */
  frames: number;
  /** Coefficient of variation of the tone's power across frames: a real beep is steady, ringback beats. */
  powerCov: number;
  /**
   * Spread of the tone's level (dB) around a straight line through it: a beep is steady or fades evenly (a
   * piezo rings down), ringback beats and speech wavers.
   */
  levelWobbleDb: number;
  /** The level's slope over the tone, dB per second (negative: it fades). */
  levelSlopeDbPerSec: number;
  /** Mean purity of its frames (a beep is a clean sinusoid; a held vowel is less so). */
  purity: number;
  /** Mean harmonic purity (the tone and its harmonics: a square or sawtooth beep). */
  harmonicPurity: number;
  /** Mean share of the fundamental in the tone and its harmonics. */
  fundamentalShare: number;
  /** Standard deviation of the frame frequencies relative to the mean (speech pitch glides). */
  freqSpread: number;
}

// A frame holds a tone when nearly all its above-noise power is in one peak and that peak stands clear
// of the noise. Speech vowels spread power over harmonics; noise has no peak.
const MIN_PURITY = 0.72;
const MIN_PEAK_SNR_DB = 9;
// One missed frame is tolerated (ANSam phase reversals, a click on the line).
const MAX_MISSES = 1;
const MS_PER_HOP = (HOP * 1000) / SAMPLE_RATE;
const MAX_LEVELS = 400;
// The first and last two windows hold the tone only in part: their level says nothing about its steadiness.
const EDGE_FRAMES = 2;

/** A straight line through the level (least squares), without the edge frames: its slope and the spread around it. */
function levelLine(y: Float32Array, n: number): { wobble: number; slope: number } {
  const from = n > 2 * EDGE_FRAMES + 3 ? EDGE_FRAMES : 0;
  const to = n - from;
  const m = to - from;
  if (m < 2) return { wobble: 0, slope: 0 };
  let st = 0;
  let sy = 0;
  for (let i = from; i < to; i++) {
    st += i;
    sy += y[i]!;
  }
  const tm = st / m;
  const ym = sy / m;
  let tt = 0;
  let ty = 0;
  let yy = 0;
  for (let i = from; i < to; i++) {
    tt += (i - tm) * (i - tm);
    ty += (i - tm) * (y[i]! - ym);
    yy += (y[i]! - ym) * (y[i]! - ym);
  }
  const slope = tt > 0 ? ty / tt : 0;
  return { wobble: Math.sqrt(Math.max(0, (yy - slope * ty) / m)), slope };
}
const WINDOW_MS = (WINDOW * 1000) / SAMPLE_RATE;

// A tone with harmonics (square, sawtooth) qualifies when the peak and its harmonics hold nearly all the
// power and the peak is the fundamental (most of that power), at 300 Hz or more: a voice's harmonic comb
// puts its strongest harmonic above the fundamental, and the gaps between this peak's multiples hold power.
const MIN_HARMONIC_PURITY = 0.8;
const MIN_FUNDAMENTAL_SHARE = 0.5;
const MIN_HARMONIC_TONE_HZ = 300;

export function isToneFrame(f: FrameFeatures, minSnrDb = MIN_PEAK_SNR_DB): boolean {
  if (f.peakSnrDb < minSnrDb) return false;
  return (
    f.purity >= MIN_PURITY ||
    (f.harmonicPurity >= MIN_HARMONIC_PURITY && f.fundamentalShare >= MIN_FUNDAMENTAL_SHARE && f.peakHz >= MIN_HARMONIC_TONE_HZ)
  );
}

/** One tone still: its frequency moved by no more than max(20 Hz, 2 %). */
export function sameTone(hz: number, refHz: number): boolean {
  return Math.abs(hz - refHz) <= Math.max(20, refHz * 0.02);
}

/**
 * Follows steady tones frame by frame. A segment ends when the tone stops or its frequency moves by more
 * than max(20 Hz, 2 %) (a SIT sequence is three segments with no gap between them).
 */
export class ToneTracker {
  private open = false;
  private freqSum = 0;
  private frames = 0;
  private firstFrame = 0;
  private lastFrame = 0;
  private misses = 0;
  private pSum = 0;
  private pSq = 0;
  private puritySum = 0;
  private harmSum = 0;
  private fundSum = 0;
  private fSq = 0;
  /** The tone's level per frame, dB (the first MAX_LEVELS frames: a beep is at most 5 s). */
  private readonly levels = new Float32Array(MAX_LEVELS);

  /** The segment in progress, if any (for decisions that need not wait for the tone's end). */
  current(frameIndex: number): { freqHz: number; durationMs: number } | undefined {
    if (!this.open) return undefined;
    return { freqHz: this.freqSum / this.frames, durationMs: (frameIndex - this.firstFrame + 1) * MS_PER_HOP };
  }

  /** Feed one frame; returns a segment that just ended, if any. `frameIndex` counts hops from 0. */
  push(frameIndex: number, f: FrameFeatures, tone: boolean): ToneSegment | undefined {
    if (tone) {
      if (this.open) {
        const avg = this.freqSum / this.frames;
        if (sameTone(f.peakHz, avg)) {
          this.add(frameIndex, f);
          return undefined;
        }
        const done = this.close();
        this.start(frameIndex, f);
        return done;
      }
      this.start(frameIndex, f);
      return undefined;
    }
    if (this.open && ++this.misses > MAX_MISSES) return this.close();
    return undefined;
  }

  /** End of input: close what is open. */
  flush(): ToneSegment | undefined {
    return this.open ? this.close() : undefined;
  }

  private start(i: number, f: FrameFeatures): void {
    this.open = true;
    this.freqSum = 0;
    this.frames = 0;
    this.pSum = 0;
    this.pSq = 0;
    this.puritySum = 0;
    this.harmSum = 0;
    this.fundSum = 0;
    this.fSq = 0;
    this.firstFrame = i;
    this.add(i, f);
  }

  private add(i: number, f: FrameFeatures): void {
    this.freqSum += f.peakHz;
    this.fSq += f.peakHz * f.peakHz;
    this.puritySum += f.purity;
    this.harmSum += f.harmonicPurity;
    this.fundSum += f.fundamentalShare;
    if (this.frames < MAX_LEVELS) this.levels[this.frames] = 10 * Math.log10(f.peakPower + 1e-9);
    this.frames++;
    this.lastFrame = i;
    this.misses = 0;
    this.pSum += f.peakPower;
    this.pSq += f.peakPower * f.peakPower;
  }

  private close(): ToneSegment {
    this.open = false;
    const n = this.frames;
    const mean = this.pSum / n;
    const variance = Math.max(0, this.pSq / n - mean * mean);
    // Frame i's window ends at (i+1)*HOP samples. A tone is seen in a window once it fills about half of
    // it, so the tone spans roughly from the first window's middle to the last window's middle.
    const startMs = (this.firstFrame + 1) * MS_PER_HOP - WINDOW_MS / 2;
    const endMs = (this.lastFrame + 1) * MS_PER_HOP - WINDOW_MS / 2;
    const fMean = this.freqSum / n;
    const fVar = Math.max(0, this.fSq / n - fMean * fMean);
    const { wobble, slope } = levelLine(this.levels, Math.min(n, MAX_LEVELS));
    return {
      freqHz: fMean,
      startMs: Math.max(0, startMs),
      endMs,
      frames: n,
      powerCov: mean > 0 ? Math.sqrt(variance) / mean : 0,
      levelWobbleDb: wobble,
      levelSlopeDbPerSec: (slope * 1000) / MS_PER_HOP,
      purity: this.puritySum / n,
      harmonicPurity: this.harmSum / n,
      fundamentalShare: this.fundSum / n,
      freqSpread: Math.sqrt(fVar) / fMean,
    };
  }
}
