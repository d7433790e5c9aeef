// The callee's level through their utterance, against the room behind them (people talking, music). The callee
// is nearer the microphone than anyone in the room: a greeting keeps its level, while a person's hello over a
// busy room is followed by the room, well under the hello and near the level the line has between sounds.

// The room after a hello: the loudest of the last TAIL_MS of "voice" this far under the hello's loudest (levels
// smoothed over ~50 ms), and within ROOM_SPREAD_DB of the line's level between sounds.
const TAIL_MS = 800;
// At maxtime, voice this recent and this far under the callee's defers AM (for up to TAIL_MS).
const SOFT_MS = 400;
const DROP_DB = 6;
const ROOM_SPREAD_DB = 12;
// ... or this far under the callee's loudest, however quiet the line is between its sounds: a television or a voice
// across the room, heard in bursts with silence between them (a greeting never goes on 12 dB softer).
const FAR_UNDER_DB = 12;
const HISTORY = 512;
const MIN_FRAMES = 8;
// The callee's own voice fading out after their last loud syllable (and the smoothing's tail) is not the room.
const FADE_MS = 160;

export type TakeOver = { verdict: 'room'; endMs: number; roomDb: number } | { verdict: 'soft' } | undefined;

export class CalleeLevel {
  private readonly times = new Float32Array(HISTORY);
  private readonly levels = new Float32Array(HISTORY);
  private pos = 0;
  private fill = 0;
  /** When the voice at maxtime first fell far under the callee's (-1: it has not). */
  private softSinceMs = -1;
  /** The loudest level of this utterance, the last time near it, the loudest since then. */
  private loudDb = -120;
  private lastLoudMs = -1;
  private sinceLoudDb = -120;

  /** A voiced frame taken for the callee (smoothed level). */
  push(nowMs: number, smoothDb: number): void {
    if (smoothDb > this.loudDb) this.loudDb = smoothDb;
    if (smoothDb >= this.loudDb - DROP_DB) {
      this.lastLoudMs = nowMs;
      this.sinceLoudDb = -120;
    } else if (nowMs - this.lastLoudMs > FADE_MS) this.sinceLoudDb = Math.max(this.sinceLoudDb, smoothDb);
    this.times[this.pos] = nowMs;
    this.levels[this.pos] = smoothDb;
    this.pos = (this.pos + 1) % HISTORY;
    if (this.fill < HISTORY) this.fill++;
  }

  /** The utterance was not the callee's: start over (older frames are also left out by time). */
  reset(): void {
    this.loudDb = -120;
    this.lastLoudMs = -1;
    this.sinceLoudDb = -120;
    this.softSinceMs = -1;
  }

  /** The callee's loudest (smoothed) level in this utterance; -120 before it. */
  get loudestDb(): number {
    return this.loudDb;
  }

  /** The last time the callee was near their loudest (-1: not in this utterance). */
  get lastLoudAtMs(): number {
    return this.lastLoudMs;
  }

  /** Frames taken for the callee since `fromMs`. */
  framesSince(fromMs: number): number {
    let count = 0;
    for (let k = 0; k < this.fill; k++) if (this.times[(this.pos - 1 - k + HISTORY) % HISTORY]! >= fromMs) count++;
    return count;
  }

  /**
   * At maxtime: has the callee stopped and the room behind them gone on? 'room': the utterance ended at `endMs`
   * (the last frame near the loudest) and what follows is the room at `roomDb`; 'soft': the voice just fell far
   * under the callee's, wait a little (up to TAIL_MS) to see; undefined: the voice goes on as the callee's.
   */
  tookOver(nowMs: number, sinceMs: number, quietDb: number | undefined): TakeOver {
    const n = this.fill;
    if (n < MIN_FRAMES) return undefined;
    let loud = -120;
    let room = -120;
    let recent = -120;
    let heads = 0;
    let tails = 0;
    for (let k = 0; k < n; k++) {
      const i = (this.pos - n + k + HISTORY) % HISTORY;
      const t = this.times[i]!;
      if (t < sinceMs) continue;
      const db = this.levels[i]!;
      if (t >= nowMs - TAIL_MS) {
        room = Math.max(room, db);
        tails++;
      } else {
        loud = Math.max(loud, db);
        heads++;
      }
      if (t >= nowMs - SOFT_MS) recent = Math.max(recent, db);
    }
    if (heads < MIN_FRAMES || tails < MIN_FRAMES) return undefined;
    // What goes on must be the room: near the line's level between sounds. A greeting's softer end stands well
    // above that.
    const roomLike = (db: number) => quietDb !== undefined && (db - quietDb <= ROOM_SPREAD_DB || loud - db >= FAR_UNDER_DB);
    if (loud - room < DROP_DB || !roomLike(room)) {
      const waited = this.softSinceMs >= 0 && nowMs - this.softSinceMs >= TAIL_MS;
      if (loud - recent >= DROP_DB && roomLike(recent) && !waited) {
        if (this.softSinceMs < 0) this.softSinceMs = nowMs;
        return { verdict: 'soft' };
      }
      return undefined;
    }
    let endMs = sinceMs;
    for (let k = 0; k < n; k++) {
      const i = (this.pos - n + k + HISTORY) % HISTORY;
      if (this.times[i]! >= sinceMs && this.levels[i]! >= loud - DROP_DB / 2) endMs = Math.max(endMs, this.times[i]!);
    }
    this.softSinceMs = -1;
    return { verdict: 'room', endMs, roomDb: room };
  }

  /**
   * The callee stopped and the room goes on: since their last frame near their loudest, for `needMs` (the silence
   * a decision needs), only voice far under it (DROP_DB) and near the line's level between sounds.
   */
  roomSince(nowMs: number, sinceMs: number, needMs: number, quietDb: () => number | undefined): boolean {
    if (this.lastLoudMs < sinceMs || this.sinceLoudDb <= -120 || nowMs - this.lastLoudMs < needMs) return false;
    // asked only now: the level between sounds takes a sort of the recent frames
    const quiet = quietDb();
    return quiet !== undefined && (this.sinceLoudDb - quiet <= ROOM_SPREAD_DB || this.loudDb - this.sinceLoudDb >= FAR_UNDER_DB);
  }
}
