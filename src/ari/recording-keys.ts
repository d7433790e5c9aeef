import type { Logger } from '../log';

export interface RecordingKeysConfig {
  /** Key sequences (e.g. "*1"); an empty string turns that command off. */
  pause: string;
  resume: string;
  stop: string;
}

export interface RecordingControl {
  /** Silence both directions of the running recording (MixMonitorMute) or end that. */
  mute(on: boolean): Promise<unknown>;
  /** End the recording for the rest of the call (StopMixMonitor). */
  stop(): Promise<unknown>;
  /** Tell the dialplan and the agent's tools (channel variable DC_RECORDING). */
  setState(state: RecordingState): Promise<unknown>;
}

export type RecordingState = 'recording' | 'paused' | 'stopped';

// Keys of one command must follow each other within this time.
const SEQUENCE_GAP_MS = 2000;

/**
 * Partial recording by DTMF (the bookends of the Fuse module): the caller's keys pause, resume and stop
 * the call's MixMonitor. A paused stretch stays in the file as silence, so times in it stay true.
 */
export class RecordingKeys {
  state: RecordingState = 'recording';
  private typed = '';
  private lastAt = 0;

  constructor(
    private readonly keys: RecordingKeysConfig,
    private readonly control: RecordingControl,
    private readonly log: Logger,
  ) {}

  async onDigit(digit: string, nowMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.typed = (nowMs - this.lastAt > SEQUENCE_GAP_MS ? '' : this.typed) + digit;
    this.lastAt = nowMs;
    const { pause, resume, stop } = this.keys;
    try {
      if (stop && this.typed.endsWith(stop)) {
        this.typed = '';
        await this.control.stop();
        await this.set('stopped');
      } else if (pause && this.typed.endsWith(pause) && this.state === 'recording') {
        this.typed = '';
        await this.control.mute(true);
        await this.set('paused');
      } else if (resume && this.typed.endsWith(resume) && this.state === 'paused') {
        this.typed = '';
        await this.control.mute(false);
        await this.set('recording');
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message, keys: this.typed }, 'recording control failed');
    }
  }

  private async set(state: RecordingState): Promise<void> {
    this.state = state;
    this.log.info({ recording: state }, 'recording state changed by DTMF');
    await this.control.setState(state).catch(() => undefined);
  }
}
