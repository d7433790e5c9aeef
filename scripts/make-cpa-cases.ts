// Generates a held-out CPA corpus in the cpa-dev manifest format, unlike the dev set on purpose: other
// languages and espeak-ng voices, beep frequencies the dev set never uses, brown/pink noise and hum at
// other levels, other lead silences. Needs espeak-ng and sox (scripts/setup.sh installs them).
//
//   node dist/scripts/make-cpa-cases.js OUT_DIR [count per class] [seed]
//   node dist/src/cli.js cpa eval --manifest OUT_DIR/manifest.json --params '{"total_timeout":30000}'
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeUlaw, encodeUlaw, encodeWav, parseWav } from '../src/media';

const [outDir, perClassArg = '12', seedArg = '7'] = process.argv.slice(2);
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
const VARIANTS = ['m1', 'm2', 'm4', 'm7', 'f1', 'f3', 'f5', 'klatt', 'croak'];
const BEEP_HZ = [500, 600, 750, 950, 1200, 1600, 1800, 2000];

function speak(text: string, lang: string, tmp: string): Float64Array {
  const voice = `${lang}+${pick(VARIANTS)}`;
  const raw = join(tmp, 'raw.wav');
  const tel = join(tmp, 'tel.wav');
  execFileSync('espeak-ng', ['-v', voice, '-s', String(Math.round(between(135, 185))), '-w', raw, text]);
  // The telephone: 8 kHz, 300-3400 Hz.
  execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', tel, 'sinc', '300-3400', 'gain', '-n', '-3']);
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
  tone(ms: number, hz: number, dbfs: number): [number, number] {
    const start = this.ms;
    const a = 32767 * 10 ** (dbfs / 20);
    const n = Math.round(ms * 8);
    for (let i = 0; i < n; i++) {
      const ramp = Math.min(1, i / 40, (n - i) / 40);
      this.x.push(a * ramp * Math.sin((2 * Math.PI * hz * i) / 8000));
    }
    return [Math.round(start), Math.round(this.ms)];
  }
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
let n = 0;
for (const cls of ['LV', 'AM', 'AM_NOBEEP'] as const) {
  for (let k = 0; k < perClass; k++) {
    const lang = langs[(k + n) % langs.length]!;
    const t = new Track();
    const level = between(-24, -12);
    const snr = pick([40, 30, 25, 20, 15, 12, 10, 8, 6]);
    const noise = pick(['white', 'brown', 'hum']);
    t.silence(between(100, 1800));
    const utterances: { start_ms: number; end_ms: number; text: string }[] = [];
    let beeps: { start_ms: number; end_ms: number; freq_hz: number }[] = [];
    if (cls === 'LV') {
      const text = pick(LIVE[lang]!);
      const [s, e] = t.add(speak(text, lang, tmp), level);
      utterances.push({ start_ms: s, end_ms: e, text });
      t.silence(between(1200, 3000));
      if (rand() < 0.5) {
        const again = pick(LIVE[lang]!);
        const [s2, e2] = t.add(speak(again, lang, tmp), level);
        utterances.push({ start_ms: s2, end_ms: e2, text: again });
      }
      t.silence(between(2000, 4000));
    } else {
      const text = pick(MACHINE[lang]!);
      const [s, e] = t.add(speak(text, lang, tmp), level);
      utterances.push({ start_ms: s, end_ms: e, text });
      t.silence(between(150, 900));
      if (cls === 'AM') {
        const hz = pick(BEEP_HZ);
        const [bs, be] = t.tone(between(200, 1000), hz, level - between(0, 8));
        beeps = [{ start_ms: bs, end_ms: be, freq_hz: hz }];
      }
      t.silence(between(2000, 4000));
    }
    const pcm = t.finish(noise, snr);
    const id = `ho-${String(n).padStart(3, '0')}`;
    writeFileSync(join(outDir, `${id}.wav`), encodeWav(pcm, 8000));
    cases.push({
      id,
      file: `${id}.wav`,
      class: cls === 'LV' ? 'LV' : 'AM',
      kind: cls,
      expected: cls === 'LV' ? 'LV' : 'AM',
      alt: null,
      language: lang,
      snr_db: snr,
      noise,
      utterances,
      first_speech_ms: [utterances[0]!.start_ms, utterances[0]!.end_ms],
      beeps,
      beep_end_ms: beeps.length ? beeps[beeps.length - 1]!.end_ms : null,
      dtmf: '',
      duration_ms: Math.round((pcm.length * 1000) / 8000),
    });
    n++;
  }
}
rmSync(tmp, { recursive: true, force: true });
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify({ name: 'held-out (generated)', seed: Number(seedArg), cases }, null, 1));
process.stdout.write(`${cases.length} cases in ${outDir}\n`);
