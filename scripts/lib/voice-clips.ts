// Real recorded prompts (scripts/fetch-voices.sh) sorted by the shape a CPA corpus needs: short words a person
// answers with, one long sentence without a pause, and pieces a machine's greeting is made of. Shapes come from
// the audio (10 ms frame levels), not from the prompt's name, so every language sorts the same way.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../../src/media';

export interface Clip {
  talent: string;
  name: string;
  /** the prompt trimmed to its speech (frames within 35 dB of its loudest) */
  samples: Float64Array;
  ms: number;
  /** the longest pause inside the speech */
  maxGapMs: number;
}

export interface Talent {
  name: string;
  short: Clip[];
  long: Clip[];
  pieces: Clip[];
  byName: Map<string, Clip>;
}

export const DEFAULT_VOICES = '/var/cache/dialplan-companion/voices';

function shape(talent: string, name: string, pcm: Int16Array): Clip | undefined {
  const frame = 80;
  const levels: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let e = 0;
    for (let j = i; j < i + frame; j++) e += pcm[j]! * pcm[j]!;
    levels.push(10 * Math.log10(e / frame + 1));
  }
  const peak = Math.max(...levels);
  if (!(peak > 40)) return undefined;
  const on = levels.map((l) => l > peak - 35);
  const first = on.indexOf(true);
  const last = on.lastIndexOf(true);
  let gap = 0;
  let run = 0;
  for (let i = first; i <= last; i++) {
    run = on[i] ? 0 : run + 1;
    gap = Math.max(gap, run);
  }
  const samples = Float64Array.from(pcm.subarray(first * frame, (last + 1) * frame));
  return { talent, name, samples, ms: (samples.length * 1000) / 8000, maxGapMs: gap * 10 };
}

export function loadTalent(root: string, name: string): Talent {
  const dir = join(root, name);
  const clips: Clip[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.wav')) continue;
    const wav = parseWav(readFileSync(join(dir, f)));
    const c = shape(name, f.slice(0, -4), wav.samples);
    if (c) clips.push(c);
  }
  const t: Talent = {
    name,
    // a person's "hello?": one short burst
    short: clips.filter((c) => c.ms >= 250 && c.ms <= 1300 && c.maxGapMs <= 200),
    // a person's long first sentence: 2-2.9 s said in one breath
    long: clips.filter((c) => c.ms >= 2000 && c.ms <= 2900 && c.maxGapMs <= 250),
    // up to 6 s each: a greeting is made of a few (the beep 5-15 s in), not of one long IVR menu
    pieces: clips.filter((c) => c.ms >= 800 && c.ms <= 6000),
    byName: new Map(clips.map((c) => [c.name, c])),
  };
  if (t.short.length < 5 || t.pieces.length < 5) throw new Error(`talent ${name}: too few usable prompts in ${dir}`);
  return t;
}

/** A music bed: one track of Asterisk's music on hold. */
export function loadMusic(root: string, name: string): Float64Array {
  return Float64Array.from(parseWav(readFileSync(join(root, name.endsWith('.wav') ? name : `${name}.wav`))).samples);
}
