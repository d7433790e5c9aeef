// Ringback heard after the answer: false answer supervision (some carriers answer the call and go on playing
// the ringing tone). Ringback is a low tone in 380-500 Hz: North America 440 + 480 Hz, 2 s on / 4 s off
// (ANSI T1.401); Europe 425 Hz, 1 s on / 4 s off or 1.5 / 3.5 (ETSI ES 201 970); the UK 400 + 450 Hz,
// 0.4 on / 0.2 off / 0.4 on / 2 off. A burst that has held HELD_BURST_MS is not voice (a single frame is no
// proof: a voiced vowel with its second harmonic near 400 Hz looks the same, and recorded female voices hold
// it for 100-200 ms); two bursts of the same tone with a ringback's gap between them are RING (Voxeo `ring`).

export const RINGBACK_LOW_HZ = 380;
export const RINGBACK_HIGH_HZ = 500;
/** A ringback frame: nearly all the above-noise power in 380-500 Hz, standing clear of the noise. */
export const MIN_RINGBACK_SHARE = 0.85;

const MIN_BURST_MS = 300;
/** Longer than a vowel holds one band (recorded voices: up to ~200 ms), shorter than the shortest burst (UK 400). */
const HELD_BURST_MS = 260;
const MAX_BURST_MS = 2600;
const MIN_GAP_MS = 150;
const MAX_GAP_MS = 4600;
/** A gap of one or two frames inside a burst (the two tones beating) does not end it. */
const MAX_HOLE_MS = 48;

export class RingbackDetector {
  private burstStartMs = -1;
  private lastRingMs = -1;
  private hzSum = 0;
  private frames = 0;
  private prev: { endMs: number; hz: number } | undefined;
  private reported = false;

  /** The start of the burst now going on if it has held HELD_BURST_MS (ringback, not a vowel), else -1. */
  heldSinceMs(nowMs: number): number {
    return this.burstStartMs >= 0 && this.lastRingMs === nowMs && nowMs - this.burstStartMs >= HELD_BURST_MS ? this.burstStartMs : -1;
  }

  /**
   * Feed one analysed frame; returns the time RING is confirmed (the second burst has lasted MIN_BURST_MS after
   * a ringback's gap), once per session.
   */
  push(nowMs: number, ringFrame: boolean, peakHz: number): number | undefined {
    if (ringFrame) {
      if (this.burstStartMs < 0 || nowMs - this.lastRingMs > MAX_HOLE_MS) {
        this.closeBurst();
        this.burstStartMs = nowMs;
        this.hzSum = 0;
        this.frames = 0;
      }
      this.lastRingMs = nowMs;
      this.hzSum += peakHz;
      this.frames++;
      const dur = nowMs - this.burstStartMs;
      const p = this.prev;
      if (!this.reported && p && dur >= MIN_BURST_MS) {
        const gap = this.burstStartMs - p.endMs;
        if (gap >= MIN_GAP_MS && gap <= MAX_GAP_MS && Math.abs(this.hzSum / this.frames - p.hz) <= 20) {
          this.reported = true;
          return nowMs;
        }
      }
    } else if (this.burstStartMs >= 0 && nowMs - this.lastRingMs > MAX_HOLE_MS) {
      this.closeBurst();
    }
    return undefined;
  }

  private closeBurst(): void {
    if (this.burstStartMs < 0) return;
    const dur = this.lastRingMs - this.burstStartMs;
    this.prev = dur >= MIN_BURST_MS && dur <= MAX_BURST_MS ? { endMs: this.lastRingMs, hz: this.hzSum / this.frames } : undefined;
    this.burstStartMs = -1;
  }
}
