import type { ToneSegment } from './tone-tracker';

// Music on the line (a music bed behind the callee, music on hold) plays tones that pass for a beep one by one:
// a held note is as pure and as steady. What gives them away is that others come near them. A machine's beep
// comes alone, or as a double or triple beep (one pitch or two), and its pitch is exact.

/** Beep-like tones each within this of the one before are one beep (double beeps end at the last one). */
export const BEEP_MERGE_MS = 400;
// A clear note within this before a beep-like tone makes it a note too (on the dev music beds, 4 s drops four
// notes in five).
const MUSIC_WINDOW_MS = 4000;
const NOTE_MAX_SPREAD = 0.006;
const NOTE_MIN_MS = 140;
const EXACT_TONE_SPREAD = 0.001;
const EXACT_TONE_WOBBLE_DB = 0.25;
/** Triple beeps exist; four pitches in a row is a tune. */
const MAX_BEEPS_IN_GROUP = 3;
const PITCH_STEP = 0.03;
const REMEMBERED = 4;

/** Within PITCH_STEP of `ref`: the same pitch (a change of pitch is the next note, or the next beep). */
export function samePitch(hz: number, ref: number): boolean {
  return Math.abs(hz - ref) <= PITCH_STEP * ref;
}

/** A machine's tone: dead steady in pitch and level (a note has vibrato, a voice glides). */
export function isExactTone(seg: ToneSegment): boolean {
  return seg.freqSpread < EXACT_TONE_SPREAD && seg.levelWobbleDb < EXACT_TONE_WOBBLE_DB;
}

export class MusicNotes {
  private readonly recent: ToneSegment[] = [];
  /** Music has been heard on this line. */
  heard = false;

  /**
   * Judge a beep-like tone: 'tune' (more pitches in a row than a triple beep), 'note' (a clear note shortly
   * before it), or undefined (it may be a beep).
   */
  push(seg: ToneSegment): 'tune' | 'note' | undefined {
    const music = this.judge(seg);
    this.recent.push(seg);
    if (this.recent.length > REMEMBERED) this.recent.shift();
    if (music) this.heard = true;
    return music;
  }

  private judge(seg: ToneSegment): 'tune' | 'note' | undefined {
    // A tone broken up by the noise is still one: only a change of pitch counts as the next beep.
    let groupStartMs = seg.startMs;
    let pitch = seg.freqHz;
    let group = 1;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i]!;
      if (groupStartMs - r.endMs > BEEP_MERGE_MS) break;
      groupStartMs = r.startMs;
      if (!samePitch(r.freqHz, pitch)) group++;
      pitch = r.freqHz;
    }
    if (group > MAX_BEEPS_IN_GROUP) return 'tune';
    if (isExactTone(seg)) return undefined;
    // Only a clear note counts (a vowel can pass for a short beep, and a greeting's last word often comes just
    // before the beep).
    const noteBefore = this.recent.some(
      (r) =>
        r.endMs < groupStartMs - BEEP_MERGE_MS &&
        r.endMs >= groupStartMs - MUSIC_WINDOW_MS &&
        r.freqSpread < NOTE_MAX_SPREAD &&
        r.endMs - r.startMs >= NOTE_MIN_MS,
    );
    return noteBefore ? 'note' : undefined;
  }
}
