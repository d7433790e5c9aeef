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
  /** Mean purity of its frames (a beep is a clean sinusoid; a held vowel is less so). */
  purity: number;
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
const WINDOW_MS = (WINDOW * 1000) / SAMPLE_RATE;

export function isToneFrame(f: FrameFeatures, minSnrDb = MIN_PEAK_SNR_DB): boolean {
  return f.purity >= MIN_PURITY && f.peakSnrDb >= minSnrDb;
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
  private fSq = 0;

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
        if (Math.abs(f.peakHz - avg) <= Math.max(20, avg * 0.02)) {
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
    this.fSq = 0;
    this.firstFrame = i;
    this.add(i, f);
  }

  private add(i: number, f: FrameFeatures): void {
    this.freqSum += f.peakHz;
    this.fSq += f.peakHz * f.peakHz;
    this.puritySum += f.purity;
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
    return {
      freqHz: fMean,
      startMs: Math.max(0, startMs),
      endMs,
      frames: n,
      powerCov: mean > 0 ? Math.sqrt(variance) / mean : 0,
      purity: this.puritySum / n,
      freqSpread: Math.sqrt(fVar) / fMean,
    };
  }
}
