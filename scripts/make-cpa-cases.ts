// Generates a CPA corpus in the cpa-dev manifest format, unlike the dev set on purpose: other languages and
// espeak-ng voices, brown noise, hum and babble (other voices talking behind the callee) at 3-40 dB SNR, other
// lead silences; people who say hello twice or a long first sentence, or answer after ringback (false answer
// supervision); machines with long greetings and pauses (beeps 5-15 s in) whose beeps are sine, square or
// sawtooth, decaying, low (400-500 Hz), short (150-300 ms) or double; SITs from the first sample; fax answer
// tones at 3-8 dB SNR. Needs espeak-ng and sox (scripts/setup.sh installs them). Seeds make the parts: tune on
// one seed's cases, report another's (README, "CPA card").
//
// With talents (6th argument; `scripts/fetch-voices.sh` fetches them, DC_CPA_VOICES says where) every voice is a
// real recording: Asterisk's prompts read by eight talents in six languages, the callee and the babble behind
// them from the talents named, music beds from the `music/NAME` entries; noises add music, car and office. Split
// by talent: tune on cases of some talents, report cases of the others.
//
//   node dist/scripts/make-cpa-cases.js OUT_DIR [count per class] [seed] [classes,...] [noises,...] [talents,...]
//   node dist/src/cli.js cpa eval --manifest OUT_DIR/manifest.json --params '{"total_timeout":30000}'
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeUlaw, encodeUlaw, encodeWav, parseWav } from '../src/media';
import { type Clip, DEFAULT_VOICES, loadMusic, loadTalent, type Talent } from './lib/voice-clips';

const [outDir, perClassArg = '12', seedArg = '7', classesArg = '', noisesArg = '', talentsArg = ''] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: node dist/scripts/make-cpa-cases.js OUT_DIR [count per class] [seed]\n');
  process.exit(2);
}
const perClass = Number(perClassArg);
let seed = Number(seedArg) >>> 0 || 7;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
const between = (lo: number, hi: number) => lo + (hi - lo) * rand();

// Live answers and machine greetings in several languages; voices are espeak-ng language+variant.
const LIVE: Record<string, string[]> = {
  de: ['Hallo?', 'Ja, bitte?', 'Müller.', 'Guten Tag.'],
  fr: ['Allô?', 'Oui?', 'Bonjour.', 'Allô, oui?'],
  it: ['Pronto?', 'Sì?', 'Pronto, chi parla?'],
  es: ['¿Diga?', '¿Bueno?', 'Hola.', '¿Sí?'],
  'en-us': ['Hello?', 'Yeah?', 'Hi, this is Sam.', 'Hello, who is this?'],
  pt: ['Alô?', 'Sim?', 'Olá.'],
  nl: ['Hallo?', 'Met Jansen.', 'Ja?'],
};
const MACHINE: Record<string, string[]> = {
  de: ['Hallo, hier ist der Anrufbeantworter von Familie Müller. Wir sind leider nicht zu Hause. Bitte sprechen Sie nach dem Signalton.'],
  fr: ['Bonjour, vous êtes bien chez Martin. Nous ne sommes pas disponibles pour le moment. Laissez un message après le bip sonore.'],
  it: ['Ciao, hai chiamato Marco. Non posso rispondere in questo momento. Lascia un messaggio dopo il segnale acustico.'],
  es: ['Hola, has llamado a Carmen. En este momento no puedo atenderte. Deja tu mensaje después de la señal.'],
  'en-us': [
    "Hi, you've reached the Johnsons. We can't come to the phone right now. Please leave a message after the tone and we'll call you back.",
  ],
  pt: ['Olá, você ligou para a Ana. Não posso atender agora. Deixe sua mensagem após o sinal.'],
  nl: ['Hallo, u spreekt met het antwoordapparaat van de familie de Vries. Spreek na de pieptoon een bericht in.'],
};
// Long first sentences (2-2.6 s): a person who says who they are before waiting for an answer.
const LIVE_LONG: Record<string, string[]> = {
  de: ['Hallo, hier ist Müller, wer spricht da bitte?'],
  fr: ["Allô, bonjour, c'est Jean-Pierre à l'appareil."],
  it: ['Pronto, buongiorno, sono Marco, chi parla?'],
  es: ['Hola, buenas tardes, habla Carmen, ¿quién es?'],
  'en-us': ["Hello, Smith residence, who's calling please?"],
  pt: ['Alô, boa tarde, aqui é a Ana, quem fala?'],
  nl: ['Hallo, met Jansen, met wie spreek ik?'],
};
const BABBLE_TEXT = ['the meeting is at three', 'can you pass me that', 'I told him already', 'no, the other one', 'we should go soon'];
const VARIANTS = ['m1', 'm2', 'm4', 'm7', 'f1', 'f3', 'f5', 'klatt', 'croak'];
const BEEP_HZ = [420, 460, 500, 600, 750, 950, 1200, 1600, 1800, 2000];

function speak(text: string, lang: string, tmp: string): Float64Array {
  const voice = `${lang}+${pick(VARIANTS)}`;
  const raw = join(tmp, 'raw.wav');
  const tel = join(tmp, 'tel.wav');
  execFileSync('espeak-ng', ['-v', voice, '-s', String(Math.round(between(135, 185))), '-w', raw, text]);
  // The telephone: 8 kHz, 300-3400 Hz. No dither (-D): sox's dither is random, and a seed must make the same corpus.
  execFileSync('sox', ['-D', raw, '-r', '8000', '-c', '1', '-b', '16', tel, 'sinc', '300-3400', 'gain', '-n', '-3']);
  const pcm = parseWav(readFileSync(tel)).samples;
  return Float64Array.from(pcm);
}

class Track {
  readonly x: number[] = [];
  get ms(): number {
    return (this.x.length * 1000) / 8000;
  }
  silence(ms: number): void {
    for (let i = 0; i < Math.round(ms * 8); i++) this.x.push(0);
  }
  add(s: Float64Array, dbfs: number): [number, number] {
    let peak = 1;
    for (const v of s) peak = Math.max(peak, Math.abs(v));
    const g = (32767 * 10 ** (dbfs / 20)) / peak;
    // trim espeak's own leading/trailing silence so the labels are tight
    let a = 0;
    let b = s.length;
    while (a < b && Math.abs(s[a]!) < peak * 0.02) a++;
    while (b > a && Math.abs(s[b - 1]!) < peak * 0.02) b--;
    const start = this.ms;
    for (let i = a; i < b; i++) this.x.push(s[i]! * g);
    return [Math.round(start), Math.round(this.ms)];
  }
  tone(
    ms: number,
    hz: number,
    dbfs: number,
    o: { shape?: 'sine' | 'square' | 'saw'; decayDb?: number; freqs?: number[] } = {},
  ): [number, number] {
    const start = this.ms;
    const a = 32767 * 10 ** (dbfs / 20);
    const n = Math.round(ms * 8);
    const shape = o.shape ?? 'sine';
    for (let i = 0; i < n; i++) {
      const ramp = Math.min(1, i / 40, (n - i) / 40) * 10 ** (-((o.decayDb ?? 0) * i) / n / 20);
      let v = 0;
      for (const f of o.freqs ?? [hz]) {
        for (let h = 1; h * f < 3400; h++) {
          const amp = shape === 'sine' ? (h === 1 ? 1 : 0) : shape === 'square' ? (h % 2 ? 4 / (Math.PI * h) : 0) : 2 / (Math.PI * h);
          if (amp) v += amp * Math.sin((2 * Math.PI * f * h * i) / 8000);
        }
      }
      this.x.push(a * ramp * v);
    }
    return [Math.round(start), Math.round(this.ms)];
  }
  /** A recorded room under the noise (babble, music, an office), looped; unit RMS. */
  bed: Float64Array | undefined;
  /**
   * Background noise `snrDb` under the RMS of the active signal (samples above -50 dBFS, as the dev
   * corpus defines SNR), then a mu-law round trip as the line does.
   */
  finish(kind: string, snrDb: number): Int16Array {
    let e = 0;
    let m = 0;
    for (const v of this.x) {
      if (Math.abs(v) > 32767 * 10 ** (-50 / 20)) {
        e += v * v;
        m++;
      }
    }
    const activeRms = Math.sqrt(e / Math.max(1, m));
    const a = activeRms / 10 ** (snrDb / 20);
    let brown = 0;
    const out = new Int16Array(this.x.length);
    for (let i = 0; i < this.x.length; i++) {
      let n: number;
      if (kind === 'brown') {
        // unit RMS: a leaky integrator of white noise (RMS 0.2/sqrt(1-0.98^2) * 1/sqrt(3))
        brown = 0.98 * brown + 0.2 * (rand() * 2 - 1);
        n = brown * 1.73;
      } else if ((kind === 'babble' || kind === 'music' || kind === 'office') && this.bed) {
        n = this.bed[i % this.bed.length]!;
      } else if (kind === 'car') {
        // engine and road: a low rumble (brown noise, heavier) with the engine's firing harmonics, slowly varying
        brown = 0.995 * brown + 0.2 * (rand() * 2 - 1);
        const rpm = 1 + 0.1 * Math.sin((2 * Math.PI * 0.3 * i) / 8000);
        n = brown * 0.8 + 0.6 * Math.sin((2 * Math.PI * 95 * rpm * i) / 8000) + 0.4 * Math.sin((2 * Math.PI * 190 * rpm * i) / 8000);
      } else if (kind === 'hum') {
        n = 1.2 * Math.sin((2 * Math.PI * 60 * i) / 8000) + 0.5 * Math.sin((2 * Math.PI * 180 * i) / 8000) + 0.5 * (rand() * 2 - 1);
      } else {
        n = (rand() * 2 - 1) * Math.sqrt(3);
      }
      out[i] = Math.max(-32768, Math.min(32767, Math.round(this.x[i]! + a * n)));
    }
    return decodeUlaw(encodeUlaw(out));
  }
}

mkdirSync(outDir, { recursive: true });
const tmp = join(outDir, '.tmp');
mkdirSync(tmp, { recursive: true });
const cases: Record<string, unknown>[] = [];
const langs = Object.keys(LIVE);

function unitRms(mix: Float64Array): Float64Array {
  let e = 0;
  for (const x of mix) e += x * x;
  const rms = Math.sqrt(e / mix.length) || 1;
  return mix.map((x) => x / rms);
}

/** Several unrelated voices at once, unit RMS: the room behind the callee. */
function babble(): Float64Array {
  const len = 8000 * 12;
  const mix = new Float64Array(len);
  for (let v = 0; v < 4; v++) {
    const lang = pick(langs);
    let at = Math.floor(rand() * 8000);
    while (at < len) {
      const s = speak(pick(BABBLE_TEXT), lang === 'en-us' ? lang : 'en-us', tmp);
      for (let i = 0; i < s.length && at + i < len; i++) mix[at + i] = mix[at + i]! + s[i]!;
      at += s.length + Math.floor(rand() * 2000);
    }
  }
  return unitRms(mix);
}

// Real voices: talents named on the command line (music beds as music/NAME).
const voicesRoot = process.env.DC_CPA_VOICES ?? DEFAULT_VOICES;
const named = talentsArg ? talentsArg.split(',') : [];
const talents: Talent[] = named.filter((x) => !x.startsWith('music/')).map((name) => loadTalent(voicesRoot, name));
const music = named.filter((x) => x.startsWith('music/')).map((x) => loadMusic(voicesRoot, x));

/** The room in real voices: 3-6 other talents, each nearer or farther, talking continuously or now and then. */
function realBabble(callee: string, len = 8000 * 12): Float64Array {
  const mix = new Float64Array(len);
  const others = talents.filter((t) => t.name !== callee);
  const pool = others.length ? others : talents;
  const continuous = rand() < 0.5;
  const voices = 3 + Math.floor(rand() * 4);
  for (let v = 0; v < voices; v++) {
    const t = pick(pool);
    const gain = 10 ** (between(-6, 6) / 20);
    let at = Math.floor(rand() * 8000);
    while (at < len) {
      const c = pick(t.pieces);
      let p = 1;
      for (const x of c.samples) p = Math.max(p, Math.abs(x));
      for (let i = 0; i < c.samples.length && at + i < len; i++) mix[at + i] = mix[at + i]! + (gain * c.samples[i]!) / p;
      at += c.samples.length + Math.floor(rand() * (continuous ? 800 : 2500));
    }
  }
  return unitRms(mix);
}

/** A music bed: 12 s of a music-on-hold track from a random place. */
function musicBed(len = 8000 * 12): Float64Array {
  const track = pick(music);
  const at = Math.floor(rand() * Math.max(1, track.length - len));
  return unitRms(Float64Array.from({ length: len }, (_, i) => track[(at + i) % track.length]!));
}

/** An office: ventilation (pinkish noise), people talking farther away, keyboards. */
function office(callee: string, len = 8000 * 12): Float64Array {
  const far = talents.length ? realBabble(callee, len) : babble();
  const out = new Float64Array(len);
  let b0 = 0;
  let b1 = 0;
  let click = 0;
  for (let i = 0; i < len; i++) {
    const w = rand() * 2 - 1;
    b0 = 0.99 * b0 + 0.1 * w;
    b1 = 0.9 * b1 + 0.3 * w;
    if (click <= 0 && rand() < 1 / 1200) click = 40;
    const k = click-- > 0 ? (rand() * 2 - 1) * 3 : 0;
    out[i] = b0 + b1 + 0.5 * far[i]! + k;
  }
  return unitRms(out);
}

const ALL_CLASSES = ['LV', 'LV_TWICE', 'LV_LONG', 'LV_RINGBACK', 'AM', 'AM_LONG', 'AM_NOBEEP', 'SIT', 'FAX'] as const;
const CLASSES = classesArg ? (classesArg.split(',') as (typeof ALL_CLASSES)[number][]) : ALL_CLASSES;
for (const c of CLASSES)
  if (!(ALL_CLASSES as readonly string[]).includes(c)) throw new Error(`unknown class ${c} (${ALL_CLASSES.join(', ')})`);
const NOISES = noisesArg
  ? noisesArg.split(',')
  : talents.length
    ? ['white', 'brown', 'babble', 'babble', 'car', 'office', ...(music.length ? ['music', 'music'] : [])]
    : ['white', 'brown', 'hum', 'babble', 'babble'];
if (NOISES.includes('music') && !music.length) throw new Error('noise music needs music/NAME beds among the talents');
let n = 0;
for (const cls of CLASSES) {
  for (let k = 0; k < perClass; k++) {
    const talent = talents.length ? talents[(k + n) % talents.length] : undefined;
    const lang = talent ? talent.name : langs[(k + n) % langs.length]!;
    const t = new Track();
    const level = between(-24, -12);
    let snr = pick([40, 30, 25, 20, 15, 12, 10, 8, 6]);
    const noise = cls === 'SIT' || cls === 'FAX' ? pick(['white', 'brown']) : pick(NOISES);
    if (talent) {
      // the independent corpus's range: 3-28 dB, every noise
      snr = pick([3, 5, 8, 10, 12, 15, 20, 25, 28]);
      if (noise === 'babble') t.bed = realBabble(talent.name);
      else if (noise === 'music') t.bed = musicBed();
      else if (noise === 'office') t.bed = office(talent.name);
    } else if (noise === 'babble') {
      t.bed = babble();
      snr = pick([25, 20, 15, 12, 10]);
    } else if (noise === 'office') t.bed = office(lang);
    const utterances: { start_ms: number; end_ms: number; text: string }[] = [];
    const beeps: { start_ms: number; end_ms: number; freq_hz: number; shape?: string; decay_db?: number }[] = [];
    const tones: { kind: string; start_ms: number; end_ms: number }[] = [];
    let cls2: string = cls;
    const say = (text: string) => {
      const [s, e] = t.add(speak(text, lang, tmp), level);
      utterances.push({ start_ms: s, end_ms: e, text });
    };
    const sayClip = (c: Clip) => {
      const [s, e] = t.add(c.samples, level);
      utterances.push({ start_ms: s, end_ms: e, text: `${c.talent}/${c.name}` });
    };
    /** A machine's greeting in real voices: prompts one after another, 3-9 s in all. */
    const greetingClips = (tl: Talent) => {
      const target = t.ms + between(3000, 9000);
      for (;;) {
        sayClip(pick(tl.pieces));
        if (t.ms >= target) break;
        t.silence(between(150, 450));
      }
    };
    if (cls === 'SIT') {
      t.silence(rand() < 0.5 ? between(0, 20) : between(100, 800));
      const s0 = t.ms;
      t.tone(274, pick([913.8, 985.2]), level);
      t.tone(274, pick([1370.6, 1428.5]), level);
      t.tone(380, 1776.7, level);
      tones.push({ kind: 'SIT', start_ms: Math.round(s0), end_ms: Math.round(t.ms) });
      t.silence(between(100, 400));
      const intercept = talent?.byName.get('ss-noservice');
      if (talent) sayClip(intercept ?? pick(talent.pieces));
      else say(pick(['The number you have dialed is not in service.', 'This number is no longer in service.']));
      t.silence(1500);
      snr = pick([30, 20, 10, 8, 5]);
    } else if (cls === 'FAX') {
      t.silence(between(0, 900));
      const [s0, e0] = t.tone(between(2600, 3300), 2100, level);
      tones.push({ kind: 'CED', start_ms: s0, end_ms: e0 });
      t.silence(500);
      snr = pick([8, 6, 5, 4, 3]);
    } else if (cls.startsWith('LV')) {
      if (cls === 'LV_RINGBACK') {
        // the carrier answered and goes on ringing: one or two ringback bursts, then the person picks up
        const na = rand() < 0.5;
        for (let r = 0; r < 1 + Math.floor(rand() * 2); r++) {
          const [s0, e0] = na ? t.tone(2000, 440, level - 6, { freqs: [440, 480] }) : t.tone(1000, 425, level - 4);
          tones.push({ kind: 'RING', start_ms: s0, end_ms: e0 });
          t.silence(4000);
        }
        t.silence(between(100, 600));
      } else t.silence(between(100, 1800));
      if (talent) {
        const first = pick(cls === 'LV_LONG' && talent.long.length ? talent.long : talent.short);
        sayClip(first);
        if (cls === 'LV_TWICE') {
          t.silence(between(1000, 3000));
          // people often say the same word again
          sayClip(rand() < 0.5 ? first : pick(talent.short));
        }
      } else {
        say(cls === 'LV_LONG' ? pick(LIVE_LONG[lang]!) : pick(LIVE[lang]!));
        if (cls === 'LV_TWICE') {
          t.silence(between(1000, 3000));
          say(pick(LIVE[lang]!));
        }
      }
      t.silence(between(2500, 4000));
      cls2 = 'LV';
    } else {
      t.silence(between(100, 1800));
      if (talent) greetingClips(talent);
      else say(pick(MACHINE[lang]!));
      if (cls === 'AM_LONG') {
        // a long greeting with a pause: the beep comes 5-15 s in
        t.silence(between(600, 1200));
        if (talent) greetingClips(talent);
        else say(pick(MACHINE[pick(langs)]!));
      }
      t.silence(between(150, 900));
      if (cls !== 'AM_NOBEEP') {
        const hz = pick(BEEP_HZ);
        const shape = pick(['sine', 'sine', 'square', 'saw'] as const);
        const decayDb = rand() < 0.3 ? between(6, 20) : 0;
        const short = rand() < 0.25;
        const count = rand() < 0.2 ? 2 : 1;
        for (let b = 0; b < count; b++) {
          const [bs, be] = t.tone(short ? between(150, 300) : between(300, 1000), hz, level - between(0, 8), { shape, decayDb });
          beeps.push({ start_ms: bs, end_ms: be, freq_hz: hz, shape, decay_db: Math.round(decayDb) });
          if (b + 1 < count) t.silence(between(80, 250));
        }
      }
      t.silence(between(2000, 4000));
      cls2 = 'AM';
    }
    const pcm = t.finish(noise, snr);
    const id = `ho-${String(n).padStart(3, '0')}`;
    writeFileSync(join(outDir, `${id}.wav`), encodeWav(pcm, 8000));
    const expected = cls2 === 'LV' ? 'LV' : cls2 === 'AM' ? 'AM' : cls === 'SIT' ? 'SIT' : 'FX';
    cases.push({
      id,
      file: `${id}.wav`,
      class: cls === 'FAX' ? 'FAX' : cls === 'SIT' ? 'SIT' : cls2,
      kind: cls,
      expected,
      alt: null,
      language: talent ? talent.name.slice(0, 2) : lang,
      talent: talent?.name ?? 'espeak',
      snr_db: snr,
      noise,
      utterances,
      first_speech_ms: utterances.length ? [utterances[0]!.start_ms, utterances[0]!.end_ms] : null,
      beeps,
      beep_end_ms: beeps.length ? beeps[beeps.length - 1]!.end_ms : null,
      tones,
      dtmf: '',
      duration_ms: Math.round((pcm.length * 1000) / 8000),
    });
    n++;
  }
}
rmSync(tmp, { recursive: true, force: true });
writeFileSync(
  join(outDir, 'manifest.json'),
  JSON.stringify({ name: 'generated', seed: Number(seedArg), talents: talentsArg || 'espeak', cases }, null, 1),
);
process.stdout.write(`${cases.length} cases in ${outDir}\n`);
