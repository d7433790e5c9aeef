import { resolveParams, VOXEO_RESULT, CpaParamError, type CpaParams, type ResultCode } from './params';
import { SpectrumFrame, HOP, WINDOW, SAMPLE_RATE } from './detectors/spectrum-frame';
import { ToneTracker, isToneFrame, type ToneSegment } from './detectors/tone-tracker';
import {
  isBeep,
  isCed,
  isCng,
  isModemAnswer,
  isSitBand,
  isSitSequence,
  matchCustomTone,
  CED_MIN_MS,
  CNG_MAX_MS,
  CNG_MIN_MS,
  MODEM_MIN_MS,
} from './detectors/tone-rules';
import { DtmfDetector } from './detectors/dtmf';
import { BEEP_MERGE_MS, MusicNotes, isExactTone, samePitch } from './detectors/music-notes';
import { CalleeLevel } from './detectors/callee-level';
import { MIN_RINGBACK_SHARE, RINGBACK_HIGH_HZ, RINGBACK_LOW_HZ, RingbackDetector } from './detectors/ringback';
import { HalfbandDecimator } from './dsp/decimate';

/** One thing the engine heard. `at_ms` is audio time from the first sample pushed (the answer). */
export interface CpaEvent {
  result: ResultCode | string;
  at_ms: number;
  /** Why: e.g. "short greeting then silence", "voice longer than maxtime", "CED 2100 Hz". */
  cause?: string;
  freq_hz?: number;
  duration_ms?: number;
  digit?: string;
  /** The first LV/AM/FX/MD/SIT/TO/unknown of the session. */
  decision?: boolean;
  /** On a live call's `unknown` from a late tap: what the engine would have decided on what it heard. */
  heard?: string;
}

const MS_PER_HOP = (HOP * 1000) / SAMPLE_RATE;
// Ringback's longest off time (4 s) and a margin: within this, the far end may still be ringing.
const RINGING_MS = 4700;
// "beep before any decision" needs this much greeting before the beep.
const BEEP_AM_MIN_GREETING_MS = 1000;
// ... and to decide, it must be steady in pitch (a note has vibrato) and follow this much of the callee's voice (not a
// room or music that passed for a greeting now and then).
const DECIDING_BEEP_MAX_SPREAD = 0.005;
const BEEP_AM_MIN_VOICE_MS = 1200;
// The room (babble, a television): ~1.5 s of level, its 25th percentile; busy when that is this far above the floor.
const ROOM_HOPS = 96;
const ROOM_MIN_HOPS = 20;
const LAG_HOPS = 12;
const ROOM_BUSY_DB = 3;
// The callee over a busy room: voice is what stands this far above the room's level ...
const ROOM_MARGIN_DB = 8;
// ... and a voice this much louder than what was taken for speech so far restarts the utterance (it was the room).
const LOUDER_RESTART_DB = 8;
// Levels are smoothed frame to frame with this weight (~50 ms at 16 ms frames).
const LEVEL_SMOOTHING = 0.3;
const RING = 1024; // samples of history (128 ms), a power of two
// Voice onset: this many voiced frames among the last four (drops clicks shorter than ~40 ms).
const ONSET_FRAMES = 3;
const ESTABLISHED_TONE_MS = 96;
// A voice onset is dated up to four frames before it is confirmed, so it can precede a burst's first frame.
const RING_ONSET_SLACK_MS = 100;
const QUIET_GATE_DB = 1.5;
const QUIET_RISE_DB = 0.05;
const STEADY_HOPS = 25; // 400 ms
const STEADY_DB = 2;
const STEADY_OUTLIERS = 3;
// A beep is followed by silence (the machine records); voice this soon after it means it was a vowel.
const BEEP_QUIET_AFTER_MS = 350;
// ... unless it is this far under the beep (the room behind a machine); LEVEL_HOPS frames (~1.3 s) remembered.
const BEEP_OVER_ROOM_DB = 8;
const LEVEL_HOPS = 80;
// A record tone comes at about the greeting's level (a few dB under its loudest); a tone this far under the loudest the
// line has been is the room behind the callee (music, held vowels).
const TONE_UNDER_LINE_DB = 12;
// A person called a machine is the expensive error: on a busy line AM waits (measured on the dev corpus: 2.5 s
// catches as many people as 4 s).
const BUSY_LINE_DB = 12;
const BUSY_DEFER_MS = 2500;
// A room's level between its sounds stays within this of the line's floor (a pause-less greeting's does not).
const ROOM_OVER_FLOOR_DB = 20;
// Someone spoke, and for this long nothing stood out of the room (no utterance going on, no ringing): the callee
// spoke and waits, their voice lost in the room (a machine's greeting stands out of it).
const ROOM_ONLY_LV_MS = 2000;
// Silence means no voice and no tone for this long.
const QUIET_FOR_SILENCE_MS = 500;
// A first utterance shorter than this is a greeting ("hello?", "yes, Smith speaking"): people then wait for an answer,
// so less silence is needed to call it live. Machine greetings pause 80-400 ms between prompts, and their
// longer pauses come after longer speech, which keeps the full maxsilence.
const SHORT_UTTERANCE_MS = 1400;
const SHORT_UTTERANCE_SILENCE_CUT_MS = 200;

/**
 * Streaming call progress analysis. Pure: PCM frames in, events out, time counted in samples. Push any
 * frame size at 8000 or 16000 Hz; call end() when the audio stops.
 */
export class CpaSession {
  readonly params: CpaParams;
  private readonly inputRate: number;
  private readonly decimator: HalfbandDecimator | undefined;
  private readonly frame: SpectrumFrame;
  private readonly tones = new ToneTracker();
  private readonly dtmf: DtmfDetector | undefined;
  private readonly ring = new Float32Array(RING);
  private ringPos = 0;
  private samples = 0; // at 8 kHz
  private sinceHop = 0;
  private hop = 0;
  private hopEnergy = 0;
  private stopped = false;
  private ended = false;

  // noise floor: minimum of block minima over ~3 s of band energy
  private readonly blockMins = new Float64Array(8).fill(Infinity);
  private blockMin = Infinity;
  private blockFill = 0;
  private floorDb = Infinity;

  // voice
  private readonly recentVoice = new Uint8Array(4);
  private speechStartMs = -1;
  private lastVoiceMs = -1;
  private voiceRun = false;
  private runStartMs = 0;
  private lastDtmfMs = -1;
  /** Last frame of a tone that held for ESTABLISHED_TONE_MS: a tone is not the silence that ends an utterance. */
  private lastToneMs = -1;
  private lastZeroHop = -1e9;
  /**
   * Where the first sound began (-1: none yet). A tap that started late fills the time before its first packet
   * with digital silence, so a tone right after it may have begun before the audio did.
   */
  private firstSoundMs = -1;
  /** Times of the last voiced frames, newest last (to undo voice that turned out to be a DTMF key). */
  private readonly voiceHistory = new Float64Array(16).fill(-1);
  // stationarity of the band energy (line noise is steady, speech is not)
  private readonly recentDb = new Float64Array(STEADY_HOPS);
  private readonly sortedDb = new Float64Array(STEADY_HOPS);
  private recentPos = 0;
  private recentFill = 0;
  // The room before the callee spoke: a low percentile of the last ~1.5 s of band level, and the callee's level.
  private readonly roomDb = new Float64Array(ROOM_HOPS).fill(-120);
  private readonly roomSorted = new Float64Array(ROOM_HOPS);
  private roomPos = 0;
  private roomFill = 0;
  /** roomQuietDb() of the frames heard so far, until the next one is heard. */
  private roomQuiet: number | undefined;
  private roomQuietStale = true;
  private fgSmoothDb = -120;
  /** The peak of the smoothed level over the utterance so far, up to LAG_HOPS ago (so a rise is seen as one). */
  private fgPeakDb = -120;
  private readonly fgLag = new Float64Array(LAG_HOPS).fill(-120);
  private fgLagPos = 0;
  /** Set when people were talking behind the callee before they spoke: voice must stand this far out of it. */
  private roomGateDb: number | undefined;
  /** When AM at maxtime was first put off on a busy line (-1: not). */
  private busySinceMs = -1;
  /** The callee's level through the utterance, against the room behind them. */
  private readonly callee = new CalleeLevel();

  private quietDb = 200;
  /** Where the callee's first utterance started (-1: nobody has spoken, or what was heard was ringback's). */
  private firstSpokeMs = -1;
  /** The last ringback frame of a ringing phase (bursts before anyone answered); -1: none. */
  private ringingAtMs = -1;

  // decisions
  private decision: string | undefined;
  private decisionMs = 0;
  private lastActivityMs = 0;
  private slReported = false;
  private readonly segments: ToneSegment[] = [];
  private pendingBeep: ToneSegment | undefined;
  /** Music on the line: its notes pass for beeps one by one. */
  private readonly music = new MusicNotes();
  /** The last LEVEL_HOPS frames: time, band level, callee voice (to compare a beep with what follows it). */
  private readonly levelsMs = new Float32Array(LEVEL_HOPS).fill(-1);
  private readonly levelsDb = new Float32Array(LEVEL_HOPS);
  private readonly levelsVoiced = new Uint8Array(LEVEL_HOPS);
  private levelsPos = 0;
  private lastBeepEndMs = -1;
  /** The line's level (smoothed over ~50 ms) and the loudest it has been. */
  private lineSmoothDb = -120;
  private lineLoudDb = -120;
  private bpslReported = false;
  private readonly out: CpaEvent[] = [];
  private readonly ringback = new RingbackDetector();
  /** Development aid: called with each frame's features and verdicts (see scripts/cpa-trace.ts). */
  trace:
    | ((t: {
        ms: number;
        bandDb: number;
        floorDb: number;
        purity: number;
        peakHz: number;
        peakSnrDb: number;
        voiced: boolean;
        tone: boolean;
      }) => void)
    | undefined;

  constructor(params: Record<string, unknown> | CpaParams = {}, sampleRate = 8000) {
    if (sampleRate !== 8000 && sampleRate !== 16000) {
      throw new CpaParamError(`sample rate must be 8000 or 16000 Hz, got ${sampleRate}`, '01', 'sample_rate');
    }
    this.params = isResolved(params) ? params : resolveParams(params);
    this.inputRate = sampleRate;
    this.decimator = sampleRate === 16000 ? new HalfbandDecimator() : undefined;
    this.frame = new SpectrumFrame(this.params.minimum_frequency);
    this.dtmf = this.params.detect_dtmf ? new DtmfDetector() : undefined;
  }

  /** Audio time so far, ms. */
  get timeMs(): number {
    return (this.samples * 1000) / SAMPLE_RATE;
  }

  /** True once a break event or total_timeout ended the analysis: further audio is ignored. */
  get done(): boolean {
    return this.stopped;
  }

  /** Feed PCM16 mono at the session's sample rate; returns the events this audio produced. */
  push(frame: Int16Array): CpaEvent[] {
    if (this.ended) throw new CpaParamError('audio pushed after end()', '06');
    if (this.stopped) return [];
    if (this.decimator) {
      const d = this.decimator.process(frame);
      for (let i = 0; i < d.length && !this.stopped; i++) this.sample(d[i]!);
    } else {
      for (let i = 0; i < frame.length && !this.stopped; i++) this.sample(frame[i]!);
    }
    return this.drain();
  }

  /** End of audio: flush what is pending (a beep being confirmed, an open tone, the final verdict). */
  end(): CpaEvent[] {
    if (this.ended) return [];
    this.ended = true;
    if (!this.stopped) {
      const seg = this.tones.flush();
      if (seg) this.onSegment(seg);
      this.flushBeep(true);
      if (!this.decision) {
        const t = this.timeMs;
        if (this.speechStartMs >= 0) {
          // Speech still going or just ended when the audio stopped: judge what we heard. Voice past maxtime while AM
          // waited on a busy line is not the strong evidence AM needs: the room may be what went on. (A room's level
          // between its sounds is near the line's floor; a greeting cut off with no pause stands far over it.)
          const long = this.lastVoiceMs - this.speechStartMs >= this.params.maxtime;
          const quiet = this.roomQuietDb();
          const weak = long && this.busyWaitRunning(t) && quiet !== undefined && quiet - this.floorDb < ROOM_OVER_FLOOR_DB;
          if (long && !weak) this.decide('AM', t, 'voice longer than maxtime');
          else
            this.decide(
              'LV',
              t,
              weak ? 'audio ended while the voice past maxtime could still be the room' : 'audio ended after a short utterance',
            );
        } else {
          this.decide(t >= this.params.total_timeout ? 'TO' : 'unknown', t, 'audio ended before a decision');
        }
      }
    }
    return this.drain();
  }

  private drain(): CpaEvent[] {
    const all = this.out.splice(0);
    const only = this.params.report_events;
    const ev = only.length ? all.filter((e) => only.includes(e.result)) : all;
    return this.params.voxeo_results ? ev.map((e) => ({ ...e, result: VOXEO_RESULT[e.result as ResultCode] ?? e.result })) : ev;
  }

  private sample(s: number): void {
    this.ring[this.ringPos] = s;
    this.ringPos = (this.ringPos + 1) & (RING - 1);
    this.samples++;
    this.hopEnergy += s * s;
    if (this.dtmf) {
      const hit = this.dtmf.push(s);
      if (hit) {
        this.emit({ result: 'DTMF', at_ms: round(hit.atMs), digit: hit.digit });
        // The key's first milliseconds were taken for voice before the digit was recognised: undo that.
        if (this.lastVoiceMs >= hit.atMs - 2 * MS_PER_HOP)
          this.lastVoiceMs = Math.min(this.lastVoiceMs, this.voiceBeforeMs(hit.atMs - 2 * MS_PER_HOP));
      }
      if (this.dtmf.active) this.lastDtmfMs = this.timeMs;
    }
    if (++this.sinceHop === HOP) {
      this.sinceHop = 0;
      if (this.samples >= WINDOW) this.analyseHop();
      this.hopEnergy = 0;
    }
    if (this.samples % 80 === 0 && this.timeMs >= this.params.total_timeout) this.timeout();
  }

  private analyseHop(): void {
    const nowMs = this.timeMs;
    const hopRms = Math.sqrt(this.hopEnergy / HOP);
    if (hopRms < 1) this.lastZeroHop = this.hop;
    else if (this.firstSoundMs < 0) this.firstSoundMs = nowMs - MS_PER_HOP;
    // Cheap gate: a frame no louder than the quietest recent ones, with no tone going on, skips the
    // spectrum (most of a call is quiet). Every fourth frame is analysed anyway, so weak tones and a
    // changing line are still seen.
    const crudeDb = 20 * Math.log10(hopRms + 1e-3);
    this.quietDb = crudeDb < this.quietDb ? crudeDb : this.quietDb + QUIET_RISE_DB;
    if (crudeDb < this.quietDb + QUIET_GATE_DB && (this.hop & 3) !== 0 && !this.pendingBeep && !this.tones.current(this.hop)) {
      this.onVoice(false, nowMs);
      const seg = this.tones.push(this.hop, this.frame.features, false);
      if (seg) this.onSegment(seg);
      this.hop++;
      this.flushBeep(false);
      this.judge(nowMs);
      return;
    }
    const f = this.frame.analyse(this.ring, (this.ringPos - WINDOW + RING) & (RING - 1));
    // Exact zeros (no media yet, or a gap in it) anywhere in the window: the frame's level says nothing about
    // the line, and the step from zeros to line noise is not voice.
    const digitalSilence = this.hop - this.lastZeroHop < WINDOW / HOP;
    const keyDown = this.dtmf?.active === true || (this.lastDtmfMs >= 0 && nowMs - this.lastDtmfMs < 4 * MS_PER_HOP);
    // A DTMF key is neither line noise nor a break in it.
    if (!keyDown) this.trackFloor(f.bandDb, digitalSilence);

    const tone = !digitalSilence && isToneFrame(f) && !this.dtmf?.active;
    // Voiced speech often looks like a tone for a frame or two (a strong low harmonic); only a tone that has
    // held for ESTABLISHED_TONE_MS is taken out of the voice track. DTMF tones are not voice either.
    const openTone = this.tones.current(this.hop);
    const establishedTone = tone && openTone !== undefined && openTone.durationMs >= ESTABLISHED_TONE_MS;
    if (!digitalSilence) this.lineSmoothDb += LEVEL_SMOOTHING * (f.bandDb - this.lineSmoothDb);
    if (this.lineSmoothDb > this.lineLoudDb) this.lineLoudDb = this.lineSmoothDb;
    // A tone far under the loudest the line has been is the room behind the callee (people's held vowels), not a
    // machine's: it neither holds the silence after an utterance off (as a beep that may follow would) nor breaks it.
    const lineTone = tone && f.bandDb >= this.lineLoudDb - TONE_UNDER_LINE_DB;
    if (establishedTone && lineTone) this.lastToneMs = nowMs;
    // Ringback after the answer (false answer supervision) is not the callee speaking.
    const ringFrame =
      !digitalSilence &&
      f.ringbackShare >= MIN_RINGBACK_SHARE &&
      f.peakSnrDb >= 9 &&
      f.peakHz >= RINGBACK_LOW_HZ &&
      f.peakHz <= RINGBACK_HIGH_HZ;
    const ringAt = this.ringback.push(nowMs, ringFrame, f.peakHz);
    if (ringAt !== undefined)
      this.emit({ result: 'RING', at_ms: round(ringAt), freq_hz: round(f.peakHz), cause: 'ringback after the answer' });
    if (ringFrame) this.lastActivityMs = nowMs;
    const ringHeldSince = this.ringback.heldSinceMs(nowMs);
    const ringHeld = ringHeldSince >= 0;
    // While the carrier plays ringback nobody has answered: what was taken for an utterance so far (the burst's
    // first frames, a room or music on the line) was not the callee; it starts again after the ringing. A burst
    // is ringing when nothing that could be a greeting came before it (a 425 or 440 Hz beep after a greeting
    // looks the same), or when it continues a ringing phase.
    if (ringHeld && !this.decision) {
      const first = this.speechStartMs < 0 || this.speechStartMs >= ringHeldSince - RING_ONSET_SLACK_MS;
      if (first || this.ringingAt(nowMs)) {
        this.ringingAtMs = nowMs;
        if (this.speechStartMs >= 0) this.unstartUtterance();
        if (this.firstSpokeMs >= ringHeldSince - RING_ONSET_SLACK_MS) this.firstSpokeMs = -1;
      }
    }
    const voiced =
      !establishedTone &&
      !ringHeld &&
      !digitalSilence &&
      !keyDown &&
      f.bandDb > this.floorDb + this.params.energy_lwm &&
      hopRms >= this.params.min_ambient_energy;
    // A weak tone not yet confirmed must not be learnt as noise, or it would never be confirmed.
    const peaky = f.purity >= 0.6 && f.peakSnrDb >= 6;
    if (!voiced && !tone && !peaky) {
      // Quiet frames teach the noise spectrum: an average, not a minimum, so that a tone's share of the
      // power above the noise is not underestimated on a noisy line. It follows a quieter line quickly.
      if (f.overNoiseDb < -3) this.frame.learnNoise(true);
      else if (f.bandDb < this.floorDb + 4) this.frame.learnNoise(false);
    }
    // The room is what the line carries besides tones (ringback, a beep): people, a television, noise.
    if (!digitalSilence && !ringHeld && !tone) {
      this.roomDb[this.roomPos] = f.bandDb;
      this.roomPos = (this.roomPos + 1) % ROOM_HOPS;
      if (this.roomFill < ROOM_HOPS) this.roomFill++;
      this.roomQuietStale = true;
    }
    const calleeVoiced = voiced && this.calleeVoice(f.bandDb, nowMs, tone);
    this.onVoice(calleeVoiced, nowMs);
    this.levelsMs[this.levelsPos] = nowMs;
    this.levelsDb[this.levelsPos] = f.bandDb;
    this.levelsVoiced[this.levelsPos] = calleeVoiced ? 1 : 0;
    this.levelsPos = (this.levelsPos + 1) % LEVEL_HOPS;
    this.trace?.({
      ms: nowMs,
      bandDb: f.bandDb,
      floorDb: this.floorDb,
      purity: f.purity,
      peakHz: f.peakHz,
      peakSnrDb: f.peakSnrDb,
      voiced,
      tone,
    });

    const seg = this.tones.push(this.hop, f, tone);
    if (seg) this.onSegment(seg);
    this.onOpenTone(nowMs);
    this.hop++;
    if (lineTone) this.lastActivityMs = nowMs;
    this.flushBeep(false);
    this.judge(nowMs);
  }

  private trackFloor(db: number, digitalSilence: boolean): void {
    if (digitalSilence) return; // exact zeros before the media starts say nothing about the line's noise
    // A level that holds steady for STEADY_HOPS frames is the line's noise, even if it just rose (hum or
    // comfort noise switching in, a noisier line after a transfer): speech never holds its energy that
    // still. A few outliers (a click, a key press) are allowed.
    this.recentDb[this.recentPos] = db;
    this.recentPos = (this.recentPos + 1) % STEADY_HOPS;
    if (this.recentFill < STEADY_HOPS) this.recentFill++;
    else {
      this.sortedDb.set(this.recentDb);
      this.sortedDb.sort();
      const median = this.sortedDb[STEADY_HOPS >> 1]!;
      let near = 0;
      for (let i = 0; i < STEADY_HOPS; i++) if (Math.abs(this.recentDb[i]! - median) <= STEADY_DB) near++;
      if (near >= STEADY_HOPS - STEADY_OUTLIERS && median - 1 > this.floorDb) {
        this.blockMins.fill(median - 1);
        this.blockMin = median - 1;
      }
    }
    if (db < this.blockMin) this.blockMin = db;
    if (++this.blockFill === 24) {
      this.blockMins.copyWithin(0, 1);
      this.blockMins[7] = this.blockMin;
      this.blockMin = Infinity;
      this.blockFill = 0;
    }
    let m = this.blockMin;
    for (let i = 0; i < 8; i++) if (this.blockMins[i]! < m) m = this.blockMins[i]!;
    this.floorDb = m;
  }

  /**
   * Is this voiced frame the callee, not the room behind them? When people were talking behind the callee before
   * the utterance began (the room's level well above the floor), only what stands out of that level counts; and a
   * voice much louder than what was taken for the utterance so far starts it again there (what came before was
   * the room, which had started the utterance on its own).
   */
  private calleeVoice(bandDb: number, nowMs: number, toneFrame: boolean): boolean {
    this.fgSmoothDb += LEVEL_SMOOTHING * (bandDb - this.fgSmoothDb);
    const old = this.fgLag[this.fgLagPos]!;
    this.fgLag[this.fgLagPos] = this.speechStartMs < 0 ? -120 : this.fgSmoothDb;
    this.fgLagPos = (this.fgLagPos + 1) % LAG_HOPS;
    if (this.speechStartMs < 0) {
      this.fgPeakDb = -120;
    } else {
      if (old > this.fgPeakDb) this.fgPeakDb = old;
      // Only over a busy room: on a quiet line a louder second sentence is the same speaker going on.
      // (A tone's first frames are not a voice: a loud beep after a greeting does not start it again.)
      const room =
        !this.decision && !toneFrame && this.fgPeakDb > -120 && this.fgSmoothDb > this.fgPeakDb + LOUDER_RESTART_DB
          ? this.busyRoomDb()
          : undefined;
      if (room !== undefined) {
        this.unstartUtterance();
        this.roomGateDb = room;
        this.fgPeakDb = -120;
        this.fgLag.fill(-120);
      }
    }
    const callee = this.roomGateDb === undefined || bandDb >= this.roomGateDb + ROOM_MARGIN_DB;
    // (after the decision too: a machine taken for a person goes on with its greeting, and its beep needs that voice)
    if (callee && this.speechStartMs >= 0) this.callee.push(nowMs, this.fgSmoothDb);
    return callee;
  }

  /** When the ringing phase ends (RINGING_MS after its last ringback frame); -1: no ringing phase. */
  private ringingEndMs(): number {
    return this.ringingAtMs >= 0 ? this.ringingAtMs + RINGING_MS : -1;
  }

  /** Ringback was heard less than RINGING_MS ago in a ringing phase: nobody has answered yet. */
  private ringingAt(nowMs: number): boolean {
    return nowMs < this.ringingEndMs();
  }

  /** What was taken for the start of the callee's utterance was not them (the room, ringback). */
  private unstartUtterance(): void {
    this.callee.reset();
    this.speechStartMs = -1;
    this.voiceRun = false;
    this.recentVoice.fill(0);
  }

  /**
   * When the callee's loudest stands less than BUSY_LINE_DB over the line's level between sounds (people or music
   * close behind them; or speech with no pause in the last 1.5 s), voice past maxtime is weak evidence of a
   * greeting: the room may be what goes on. AM waits up to BUSY_DEFER_MS more for the room to show itself (the
   * callee's level rules) or a beep. AM only has to come before the beep ends (the voicemail drop starts there).
   */
  private busyLineDefers(nowMs: number): boolean {
    if (this.busySinceMs < 0) {
      const quiet = this.roomQuietDb();
      if (quiet === undefined || this.callee.loudestDb - quiet >= BUSY_LINE_DB) return false;
      this.busySinceMs = nowMs;
    }
    return this.busyWaitRunning(nowMs);
  }

  /** AM at maxtime is waiting on a busy line (started by busyLineDefers, for BUSY_DEFER_MS). */
  private busyWaitRunning(nowMs: number): boolean {
    return this.busySinceMs >= 0 && nowMs - this.busySinceMs < BUSY_DEFER_MS;
  }

  /** The room's level if it is busy (people talking), else undefined. */
  private busyRoomDb(): number | undefined {
    const level = this.roomQuietDb();
    return level !== undefined && level - this.floorDb > ROOM_BUSY_DB ? level : undefined;
  }

  /** The silence that ends an utterance this long: shorter after a short one (a person waits for an answer). */
  private silenceNeededMs(spokenMs: number): number {
    const p = this.params;
    return spokenMs < SHORT_UTTERANCE_MS ? Math.max(300, p.maxsilence - SHORT_UTTERANCE_SILENCE_CUT_MS) : p.maxsilence;
  }

  /** The loudest band level of the last LEVEL_HOPS frames within [fromMs, toMs] (voiced ones only, if asked). */
  private recentMaxDb(fromMs: number, toMs: number, voicedOnly: boolean): number {
    let m = -120;
    for (let i = 0; i < LEVEL_HOPS; i++) {
      const t = this.levelsMs[i]!;
      if (t >= fromMs && t <= toMs && (!voicedOnly || this.levelsVoiced[i]) && this.levelsDb[i]! > m) m = this.levelsDb[i]!;
    }
    return m;
  }

  /** The line's level between sounds: the 25th percentile of the last ROOM_HOPS frames besides tones. */
  private roomQuietDb(): number | undefined {
    // several rules ask in one frame: sorted once per frame heard
    if (!this.roomQuietStale) return this.roomQuiet;
    this.roomQuietStale = false;
    const n = this.roomFill;
    if (n < ROOM_MIN_HOPS) return (this.roomQuiet = undefined);
    const heard = this.roomSorted.subarray(0, n);
    // the last n frames heard (the ring holds them at positions roomPos-n .. roomPos-1)
    for (let i = 0; i < n; i++) heard[i] = this.roomDb[(this.roomPos - n + i + ROOM_HOPS) % ROOM_HOPS]!;
    heard.sort();
    return (this.roomQuiet = heard[n >> 2]!);
  }

  private onVoice(voiced: boolean, nowMs: number): void {
    const rv = this.recentVoice;
    rv[0] = rv[1]!;
    rv[1] = rv[2]!;
    rv[2] = rv[3]!;
    rv[3] = voiced ? 1 : 0;
    const count = rv[0]! + rv[1]! + rv[2]! + rv[3]!;
    const need = this.params.suppress_spikes ? ONSET_FRAMES : 1;
    if (count >= need) {
      // Confirmed voice: the run started about `count` frames ago.
      if (!this.voiceRun) {
        this.voiceRun = true;
        this.runStartMs = Math.max(0, nowMs - 4 * MS_PER_HOP);
      }
      // Off-hook clicks and bumps right after the answer are not the greeting: early sounds count only
      // once they have lasted 100 ms.
      if (this.speechStartMs < 0 && !this.decision) {
        const early = this.runStartMs < this.params.initial_silence_ignore;
        if (!early || nowMs - this.runStartMs >= 100 + 4 * MS_PER_HOP) {
          this.speechStartMs = this.runStartMs;
          this.roomGateDb ??= this.busyRoomDb();
        }
      }
      if (this.speechStartMs >= 0 && this.firstSpokeMs < 0) this.firstSpokeMs = this.speechStartMs;
      this.lastVoiceMs = nowMs;
      this.lastActivityMs = nowMs;
      this.voiceHistory.copyWithin(0, 1);
      this.voiceHistory[15] = nowMs;
    } else if (count === 0) {
      this.voiceRun = false;
    }
  }

  private voiceBeforeMs(t: number): number {
    for (let i = 15; i >= 0; i--) if (this.voiceHistory[i]! < t) return this.voiceHistory[i]!;
    return this.speechStartMs;
  }

  private judge(nowMs: number): void {
    const p = this.params;
    if (!this.decision) {
      if (this.speechStartMs < 0) {
        // Still ringing (ringback in the last RINGING_MS): nobody has answered yet, so their silence means nothing.
        const ringing = this.ringingAt(nowMs);
        if (
          this.firstSpokeMs < 0 &&
          !ringing &&
          nowMs >= p.initial_silence_ignore + p.amd_time_limit &&
          nowMs - this.lastActivityMs >= QUIET_FOR_SILENCE_MS &&
          !this.pendingBeep
        ) {
          this.decide('LV', nowMs, 'silence: nobody spoke within amd_time_limit');
        } else if (
          this.firstSpokeMs >= 0 &&
          !ringing &&
          !this.pendingBeep &&
          // (from the end of a ringing phase: nobody had answered before it)
          nowMs - Math.max(this.lastVoiceMs, this.ringingEndMs()) >= ROOM_ONLY_LV_MS
        ) {
          this.decide('LV', nowMs, 'voice heard, then nothing that stood out of the room');
        }
        return;
      }
      let voiced = this.lastVoiceMs - this.speechStartMs;
      // Before calling it a machine: was all of it the callee? (what the room added is cut off here)
      const takeOver = voiced >= p.maxtime ? this.callee.tookOver(nowMs, this.speechStartMs, this.roomQuietDb()) : undefined;
      if (takeOver?.verdict === 'room') {
        // the utterance ended there; from here the room's loudest so far does not pass for the callee
        this.roomGateDb = Math.max(this.roomGateDb ?? -120, takeOver.roomDb - ROOM_MARGIN_DB / 2);
        this.lastVoiceMs = takeOver.endMs;
        voiced = this.lastVoiceMs - this.speechStartMs;
      }
      // While the ringback's cadence may still go on, the voice may be the line's (a room, music), not a greeting:
      // the next burst would show it. A machine that answered after the ringing is decided once it has stopped.
      const ringing = this.ringingAt(nowMs);
      // The ringing phase just ended with voice that went on all through it: that was the line's (a room, music),
      // not a greeting; the callee's utterance is what comes from now on. (A hello heard in it stays.)
      if (this.ringingAtMs >= 0 && !ringing) {
        this.ringingAtMs = -1;
        if (voiced >= p.maxtime) {
          this.unstartUtterance();
          return;
        }
      }
      if (voiced >= p.maxtime) {
        // 'soft': the voice just fell far under the callee's; a little longer shows whether the room took over.
        // (and a beep-like tone that has just ended is judged first: it may decide AM at its own end)
        if (!ringing && takeOver?.verdict !== 'soft' && !this.pendingBeep && !this.busyLineDefers(nowMs))
          this.decide('AM', nowMs, 'voice longer than maxtime');
      } else if (
        // a tone holds the silence off (a beep may follow), except on a line that plays music: that is the music
        // (and once the room took over, its tones are the room's)
        nowMs - (this.music.heard || takeOver?.verdict === 'room' ? this.lastVoiceMs : Math.max(this.lastVoiceMs, this.lastToneMs)) >=
        this.silenceNeededMs(voiced)
      ) {
        this.decide('LV', nowMs, `utterance of ${round(voiced)} ms then silence`);
      } else {
        const spoken = this.callee.lastLoudAtMs - this.speechStartMs;
        if (this.callee.roomSince(nowMs, this.speechStartMs, this.silenceNeededMs(spoken), () => this.roomQuietDb()))
          this.decide('LV', nowMs, `utterance of ${round(spoken)} ms, then only the room`);
      }
      return;
    }
    // After the decision: silence reports.
    if (
      p.silence_detect_limit > 0 &&
      !this.slReported &&
      nowMs - Math.max(this.lastActivityMs, this.decisionMs) >= p.silence_detect_limit
    ) {
      this.slReported = true;
      this.emit({ result: 'SL', at_ms: round(nowMs) });
    }
    if (this.voiceRun) this.slReported = false;
    if (p.beep_to_silence_gap > 0 && this.lastBeepEndMs >= 0 && !this.bpslReported && !this.pendingBeep) {
      const quietSince = Math.max(this.lastBeepEndMs, this.lastActivityMs);
      if (this.lastVoiceMs <= this.lastBeepEndMs && nowMs - quietSince >= p.beep_to_silence_gap) {
        this.bpslReported = true;
        this.emit({ result: 'BPSL', at_ms: round(nowMs) });
      }
    }
  }

  /** Decisions that need not wait for a tone to end (CED, modem answer, long custom tones). */
  private onOpenTone(nowMs: number): void {
    const cur = this.tones.current(this.hop);
    if (!cur || this.decision) return;
    const custom = matchCustomTone(cur, this.params.tones);
    if (custom) {
      this.decide(custom.name, nowMs, `tone ${custom.name} ${round(cur.freqHz)} Hz`, { freq_hz: round(cur.freqHz) });
    } else if (isCed(cur.freqHz) && cur.durationMs >= CED_MIN_MS) {
      this.decide('FX', nowMs, 'fax answer tone (CED 2100 Hz)', { freq_hz: round(cur.freqHz) });
    } else if (isModemAnswer(cur.freqHz) && cur.durationMs >= MODEM_MIN_MS) {
      this.decide('MD', nowMs, 'modem answer tone 2225 Hz', { freq_hz: round(cur.freqHz) });
    }
  }

  private onSegment(seg: ToneSegment): void {
    this.segments.push(seg);
    // (a SIT is three tones; each may come in two parts, broken by a lost packet)
    if (this.segments.length > 8) this.segments.shift();
    const dur = seg.endMs - seg.startMs;
    if (isSitSequence(this.segments, Math.max(0, this.firstSoundMs))) {
      // Its tones make one SIT: the rest of a tone broken by a lost packet is not another.
      this.segments.length = 0;
      this.pendingBeep = undefined;
      if (!this.decision) this.decide('SIT', round(seg.endMs), 'special information tones', { freq_hz: round(seg.freqHz) });
      else this.emit({ result: 'SIT', at_ms: round(seg.endMs), freq_hz: round(seg.freqHz) });
      return;
    }
    if (!this.decision && isCng(seg.freqHz) && dur >= CNG_MIN_MS && dur <= CNG_MAX_MS) {
      this.decide('FX', round(seg.endMs), 'fax calling tone (CNG 1100 Hz)', { freq_hz: round(seg.freqHz) });
      return;
    }
    if (this.decision === 'FX' || this.decision === 'MD' || this.decision === 'SIT') return;
    // (a ringback burst of the ringing phase is as steady as a beep)
    if (!isBeep(seg) || this.ringingAtMs >= seg.startMs) return;
    const prev = this.pendingBeep;
    // A tone in the first SIT band may be the start of a SIT: held as a beep candidate only until the next one.
    if (prev && isSitBand(prev.freqHz, 0) && isSitBand(seg.freqHz, 1)) {
      this.pendingBeep = undefined; // SIT in progress
      return;
    }
    const music = this.music.push(seg);
    if (music) {
      // A note of music, and the tone held as a beep just before it was one too: always in a tune, and after
      // another note unless that one was exact (a machine's beep over music).
      if (prev && (music === 'tune' || !isExactTone(prev))) this.pendingBeep = undefined;
      return;
    }
    // A double beep is reported at its last tone; but a wavering tone of another pitch right after an exact one
    // is the music behind the machine, not its second beep.
    const noteAfterBeep = prev !== undefined && isExactTone(prev) && !isExactTone(seg) && !samePitch(seg.freqHz, prev.freqHz);
    if (!noteAfterBeep) this.pendingBeep = seg;
  }

  /** Report a held beep once nothing beep-like follows it within BEEP_MERGE_MS (double beeps: the last one). */
  private flushBeep(atEnd: boolean): void {
    const b = this.pendingBeep;
    if (!b) return;
    if (!atEnd && (this.timeMs - b.endMs < Math.max(BEEP_MERGE_MS, BEEP_QUIET_AFTER_MS) || this.tones.current(this.hop))) return;
    this.pendingBeep = undefined;
    // Voice right after it: the tone was a vowel of someone still talking; unless that voice is far under the
    // tone (the room behind a machine that has started recording).
    const afterFrom = b.endMs + 2 * MS_PER_HOP;
    const afterTo = afterFrom + BEEP_QUIET_AFTER_MS;
    const voiceAfter = this.lastVoiceMs > afterFrom && this.lastVoiceMs <= afterTo;
    if (voiceAfter && this.recentMaxDb(afterFrom, afterTo, true) > this.recentMaxDb(b.startMs, b.endMs, false) - BEEP_OVER_ROOM_DB) return;
    const at = round(b.endMs);
    if (!this.decision) {
      if (!this.params.beep_is_am || !this.beepProvesMachine(b)) return;
      this.decide('AM', at, 'beep before any decision', {});
    } else if (this.decision === 'LV' && !this.beepProvesMachine(b)) {
      // After LV a beep is reported only on the evidence that would have made it AM: a dialer may take BP for
      // "leave the message now", and on a live call that is the expensive error. (A note of the music behind a
      // person is as steady as a beep.)
      return;
    }
    this.lastBeepEndMs = b.endMs;
    this.bpslReported = false;
    this.emit({ result: 'BP', at_ms: at, freq_hz: round(b.freqHz), duration_ms: round(b.endMs - b.startMs) });
  }

  /**
   * Would this beep-like tone prove a machine? A record tone comes after a greeting; a "beep" before anyone spoke
   * is music or line noise. And a greeting lasts: a tone right after a short "hello?" is not taken for the record
   * tone (a person called a machine is the expensive error). On a line that plays music a beep-like tone is no
   * proof either.
   */
  private beepProvesMachine(b: ToneSegment): boolean {
    return (
      !this.music.heard &&
      this.speechStartMs >= 0 &&
      b.startMs - this.speechStartMs >= BEEP_AM_MIN_GREETING_MS &&
      b.freqSpread < DECIDING_BEEP_MAX_SPREAD &&
      this.callee.framesSince(this.speechStartMs) * MS_PER_HOP >= BEEP_AM_MIN_VOICE_MS
    );
  }

  private decide(result: string, atMs: number, cause: string, extra: Partial<CpaEvent> = {}): void {
    if (this.decision) return;
    this.decision = result;
    this.decisionMs = atMs;
    this.emit({ result, at_ms: round(atMs), cause, decision: true, ...extra });
  }

  private timeout(): void {
    if (!this.decision) this.decide('TO', this.params.total_timeout, 'total_timeout without a decision');
    this.flushBeep(true);
    this.stopped = true;
  }

  private emit(e: CpaEvent): void {
    this.out.push(e);
    if (this.params.break_events.includes(e.result)) this.stopped = true;
  }
}

function round(ms: number): number {
  return Math.round(ms);
}

function isResolved(p: Record<string, unknown> | CpaParams): p is CpaParams {
  return Array.isArray((p as CpaParams).tones) && typeof (p as CpaParams).maxtime === 'number' && 'voxeo_results' in p;
}
