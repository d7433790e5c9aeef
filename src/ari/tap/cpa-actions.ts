import type { CpaEvent } from '../../cpa';
import type { Logger } from '../../log';

export interface CpaActionConfig {
  onFax: 'hangup' | 'none';
  onSit: 'hangup' | 'none';
  onMachine: 'none' | 'hangup' | 'drop';
  dropMessage: string;
  beepWaitMs: number;
  onLive: 'tone' | 'none';
  liveTone: string;
}

export interface CpaActionsOptions {
  config: CpaActionConfig;
  log: Logger;
  setCallerVar(name: string, value: string): Promise<unknown>;
  /** Play to the caller (agent) only. */
  playToCaller(media: string): Promise<unknown>;
  /** Play into the call (both parties hear it, the recording has it); resolves when it has finished. */
  playToCall(media: string): Promise<void>;
  endCall(reason: string): void;
}

/**
 * What the call does with each CPA result: channel variables for the dialplan and the agent's tools,
 * hang up on fax/SIT, voicemail drop after the beep, a tone to the agent when a person answers.
 */
export class CpaActions {
  private decided = false;
  private machine = false;
  private dropped = false;
  private beepTimer: NodeJS.Timeout | undefined;
  private cancelled = false;

  constructor(private readonly o: CpaActionsOptions) {}

  onEvent(e: CpaEvent): void {
    const { config: c, log } = this.o;
    log.info({ cpa: e.result, at_ms: e.at_ms, cause: e.cause, freq_hz: e.freq_hz, digit: e.digit }, 'CPA event');
    if (this.cancelled) return;
    if (e.decision && !this.decided) {
      this.decided = true;
      void this.o.setCallerVar('CPA_RESULT', String(e.result));
      void this.o.setCallerVar('CPA_CAUSE', e.cause ?? '');
      void this.o.setCallerVar('CPA_DECISION_MS', String(e.at_ms));
      switch (e.result) {
        case 'FX':
        case 'MD':
          if (c.onFax === 'hangup') this.o.endCall(`CPA: ${e.result}, callee hung up`);
          break;
        case 'SIT':
          if (c.onSit === 'hangup') this.o.endCall('CPA: SIT, callee hung up');
          break;
        case 'LV':
          if (c.onLive === 'tone') void this.o.playToCaller(c.liveTone);
          break;
        case 'AM':
          this.machine = true;
          if (c.onMachine === 'hangup') this.o.endCall('CPA: AM, callee hung up');
          // No beep after the greeting (some machines have none): drop the message when the wait runs out.
          else if (c.onMachine === 'drop') this.beepTimer = setTimeout(() => void this.drop('no beep heard'), c.beepWaitMs);
          break;
        default:
          break;
      }
    }
    if (e.result === 'BP') {
      void this.o.setCallerVar('CPA_BEEP_MS', String(e.at_ms));
      if (this.machine && c.onMachine === 'drop') void this.drop('after the beep');
    }
    if (e.result === 'DTMF' && e.digit) void this.o.setCallerVar('CPA_DTMF', e.digit);
  }

  private async drop(why: string): Promise<void> {
    if (this.dropped || this.cancelled) return;
    this.dropped = true;
    clearTimeout(this.beepTimer);
    this.o.log.info({ media: this.o.config.dropMessage, why }, 'voicemail drop');
    try {
      await this.o.playToCall(this.o.config.dropMessage);
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'voicemail drop playback failed');
    }
    if (!this.cancelled) this.o.endCall('CPA: voicemail message dropped');
  }

  /** The call is ending: no more actions. */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.beepTimer);
  }
}
