import type { ToneSpec } from '../params';
import { sameTone, type ToneSegment } from './tone-tracker';

// What a steady tone means, by frequency and duration (standards named per rule).

const near = (f: number, target: number, tol: number) => Math.abs(f - target) <= tol;

/** Fax answer tone CED / modem ANS(am): 2100 Hz (ITU-T V.25 / T.30), long and steady. */
export const isCed = (f: number) => near(f, 2100, 25);
/** Fax calling tone CNG: 1100 Hz, 0.5 s on / 3 s off (T.30). */
export const isCng = (f: number) => near(f, 1100, 38);
/** V.21 channel 2 FSK (HDLC flags from the answering fax): 1650 / 1850 Hz. */
export const isV21 = (f: number) => near(f, 1650, 25) || near(f, 1850, 25);
/** Bell 103/212A modem answer tone. */
export const isModemAnswer = (f: number) => near(f, 2225, 25);

export const CED_MIN_MS = 450;
export const CNG_MIN_MS = 350;
export const CNG_MAX_MS = 800;
export const MODEM_MIN_MS = 450;

/**
 * SIT: three tones in rising bands. Telcordia segments are 913.8 or 985.2, 1370.6 or 1428.5, 1776.7 Hz,
 * 274 or 380 ms each; ITU-T E.180 uses 950 / 1400 / 1800 Hz (+-50), 330 ms. Gaps are under 30 ms.
 */
const SIT_BANDS: [number, number][] = [
  [880, 1020],
  [1330, 1470],
  [1720, 1860],
];

/** A tone starting this soon after the first sound was already sounding when the audio began (a tap that started late). */
export const CLIPPED_START_MS = 64;

// A lost packet (filled with silence) or a repeated one breaks a tone in two, with a blip of smeared pitch
// between the parts at times: parts of one pitch this close together are one tone when a SIT is judged, and a
// blip of BLIP_FRAMES or fewer is no tone of its own.
const MAX_GLITCH_GAP_MS = 70;
const BLIP_FRAMES = 2;

/**
 * The last tones heard end a SIT: three in rising bands, or, when the audio began during the SIT (a late tap),
 * what was left of it: its first tone cut short, or only its last two. `soundFromMs`: where the first sound
 * began (a late tap's audio starts with the digital silence that stands for what it missed).
 */
export function isSitSequence(segs: ToneSegment[], soundFromMs = 0): boolean {
  const tones = joinGlitches(segs);
  const three = tones.slice(-3);
  const two = tones.slice(-2);
  const clipped = (s: Span) => s.startMs <= soundFromMs + CLIPPED_START_MS;
  return (three.length === 3 && isSitTail(three, clipped(three[0]!))) || (two.length === 2 && clipped(two[0]!) && isSitTail(two, true));
}

type Span = Pick<ToneSegment, 'freqHz' | 'startMs' | 'endMs'>;

function joinGlitches(segs: ToneSegment[]): Span[] {
  const out: Span[] = [];
  for (const seg of segs) {
    if (seg.frames <= BLIP_FRAMES) continue;
    const last = out[out.length - 1];
    if (last && seg.startMs - last.endMs <= MAX_GLITCH_GAP_MS && sameTone(seg.freqHz, last.freqHz)) last.endMs = seg.endMs;
    else out.push({ freqHz: seg.freqHz, startMs: seg.startMs, endMs: seg.endMs });
  }
  return out;
}

/** These tones are the last tones of a SIT, back to back (the first one cut short by the audio's start if `clipped`). */
function isSitTail(s: Span[], clipped: boolean): boolean {
  return s.every((seg, i) => {
    const [lo, hi] = SIT_BANDS[SIT_BANDS.length - s.length + i]!;
    const dur = seg.endMs - seg.startMs;
    const gapOk = i === 0 || seg.startMs - s[i - 1]!.endMs <= 120;
    return seg.freqHz >= lo && seg.freqHz <= hi && dur >= (i === 0 && clipped ? 0 : 150) && dur <= 500 && gapOk;
  });
}

/** Could this tone belong to a SIT sequence (so it must not be reported as a beep on its own yet)? */
export function isSitBand(f: number, index: number): boolean {
  const b = SIT_BANDS[index];
  return !!b && f >= b[0] && f <= b[1];
}

// A short beep that rings down 20 dB in 150 ms fades at ~130 dB/s.
const MAX_DECAY_DB_PER_S = 140;

/**
 * An answering machine's record tone: one steady tone, 300-2500 Hz, 100 ms to 5 s. Pure (a sine), or a tone
 * with its harmonics (square, sawtooth) held dead steady in frequency; steady in level or fading evenly (up to
 * MAX_DECAY_DB_PER_S: a piezo ringing down), never wavering (speech) or beating (ringback).
 */
export function isBeep(seg: ToneSegment): boolean {
  const dur = seg.endMs - seg.startMs;
  const pure = seg.purity >= 0.85 && seg.freqSpread < 0.012;
  // With harmonics, also never rising: a held high-pitched "hello" is harmonic and steady too, but it swells.
  const harmonic = seg.harmonicPurity >= 0.9 && seg.fundamentalShare >= 0.5 && seg.freqSpread < 0.006 && seg.levelSlopeDbPerSec <= 3;
  const steady =
    seg.powerCov < 0.45 || (seg.levelWobbleDb < 1.5 && seg.levelSlopeDbPerSec <= 0 && seg.levelSlopeDbPerSec > -MAX_DECAY_DB_PER_S);
  return (
    seg.freqHz >= 300 * 0.98 && seg.freqHz <= 2500 * 1.02 && !isCed(seg.freqHz) && dur >= 120 && dur <= 5000 && steady && (pure || harmonic)
  );
}

/** A configured custom tone (`tones` parameter) this segment matches, held for at least 250 ms. */
export function matchCustomTone(seg: { freqHz: number; durationMs: number }, tones: ToneSpec[]): ToneSpec | undefined {
  if (seg.durationMs < 250) return undefined;
  return tones.find((t) => Math.abs(seg.freqHz - t.freqHz) <= Math.max(t.toleranceHz, 16));
}
