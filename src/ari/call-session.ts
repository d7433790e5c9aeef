import type { Logger } from '../log';
import type { CpaEvent, CpaParams } from '../cpa';
import type { RtpCodec, RtpReceiver } from '../media';
import type { AriPort } from './ari-client';
import { CalleeTap } from './tap/callee-tap';
import { CpaActions, type CpaActionConfig } from './tap/cpa-actions';
import { CALLEE_ARG, callIds, type CallIds } from './call-ids';
import { RecordingKeys, type RecordingKeysConfig, type RecordingState } from './recording-keys';
import { ignoreGone } from './ignore-gone';

export type CallState = 'answering' | 'dialing' | 'bridged' | 'ending' | 'ended';

export interface CallSessionOptions {
  ari: AriPort;
  app: string;
  log: Logger;
  /** The caller's channel id: its uniqueid, the root of every id this call derives. */
  callerChannelId: string;
  /** The caller's channel name (AMI addresses channels by name). */
  callerChannelName: string;
  /** ANI: the caller's number as Asterisk reports it. */
  ani: string;
  /** DNIS: the number dialled after the *123 prefix. */
  dnis: string;
  endpoint: string;
  dialTimeoutSec: number;
  /** The CPA tap; absent when CPA is off. */
  tap?: {
    receiver: RtpReceiver;
    rtpTarget: string;
    codec: RtpCodec;
    params: CpaParams;
    actions: CpaActionConfig;
    /** Audio starting later than this after the answer: the decision is reported as unknown. */
    maxLagMs: number;
    /** Asked at the answer: a reason to skip the tap (backpressure), or undefined to tap. */
    gate?: () => string | undefined;
    /** How long the tap's channels may take to enter Stasis (default 5 s). */
    readyTimeoutMs?: number;
    /** Wall clock in ms (tests). */
    clock?: () => number;
    /** Analyse on a CPA server instead of in this process (cpa.serviceUrl). */
    service?: { url: string; config: string };
  };
  /** DTMF control of the call's recording (MixMonitorMute/StopMixMonitor through AMI); absent when off. */
  recording?: { keys: RecordingKeysConfig; control: RecordingPort };
  /** Every CPA event of the call, as it happens (the service's event bus). */
  onCpaEvent?: (e: CpaEvent) => void;
  /** The call is known (file name, ANI, DNIS): the catalog writes its row before anything else happens. */
  onStarted?: (s: CallStart) => Promise<void> | void;
}

/** Recording control by channel name: the AMI side of the recording keys. */
export interface RecordingPort {
  mute(channelName: string, on: boolean): Promise<unknown>;
  stop(channelName: string): Promise<unknown>;
}

export interface CallStart {
  uniqueid: string;
  ani: string;
  dnis: string;
  recordingFile: string | undefined;
  linkedid: string | undefined;
  startedAt: Date;
}

export interface CallSummary {
  uniqueid: string;
  ani: string;
  dnis: string;
  calleeChannelId: string;
  recordingFile: string | undefined;
  /** Asterisk's linkedid of the call (shared by all its channels). */
  linkedid: string | undefined;
  startedAt: Date;
  answeredAt: Date | undefined;
  endedAt: Date;
  /** Why the call ended: who hung up, or the dial failure. */
  cause: string;
  /** What the CPA engine heard on the callee's audio, in order (empty when CPA is off or never ran). */
  cpaEvents: CpaEvent[];
  /** The primary CPA decision (LV, AM, FX, SIT, ...), if one was made. */
  cpaResult: string | undefined;
  /** The recording's state at the end (paused or stopped by the caller's keys). */
  recordingState: RecordingState;
  /** ms between the answer and the tap's first audio (undefined: no tap, or no audio). */
  tapLagMs: number | undefined;
  /** Taken over after a restart of the service: its CPA result was lost with the old process. */
  adopted: boolean;
  /** answered, or why not: busy, no_answer, rejected, unallocated, congestion, caller_left, failed. */
  outcome: string;
}

// ARI hangup reasons for the dial outcomes we pass back to the caller.
const HANGUP_REASON_BY_CAUSE: Record<number, string> = {
  17: 'busy',
  18: 'no_answer',
  19: 'no_answer',
  21: 'rejected',
  1: 'unallocated',
  34: 'congestion',
};

/**
 * One *123 call: answer the caller, dial the callee, bridge them, and when either side leaves, hang up the
 * other and destroy everything this session created. Teardown is idempotent: events race at hangup and
 * every step tolerates "already gone".
 */
export class CallSession {
  readonly ids: CallIds;
  state: CallState = 'answering';
  private calleeStarted = false;
  private calleeCreated = false;
  private recordingFile: string | undefined;
  private linkedid: string | undefined;
  private startedAt = new Date();
  private answeredAt: Date | undefined;
  private adopted = false;
  private bridgeCreated = false;
  private teardownDone: Promise<CallSummary> | undefined;
  private onEnded: ((s: CallSummary) => void) | undefined;
  private tap: CalleeTap | undefined;
  private actions: CpaActions | undefined;
  private readonly cpaEvents: CpaEvent[] = [];
  private readonly stasisWaiters = new Map<string, () => void>();
  private readonly startedChannels = new Set<string>();
  private readonly playbackWaiters = new Map<string, () => void>();
  private readonly recordingKeys: RecordingKeys | undefined;

  constructor(private readonly o: CallSessionOptions) {
    // Ids derived from the caller's uniqueid: every object this call creates can be traced back to it.
    this.ids = callIds(o.callerChannelId);
    const rec = o.recording;
    if (rec) {
      const channel = o.callerChannelName;
      this.recordingKeys = new RecordingKeys(
        rec.keys,
        {
          mute: (on) => rec.control.mute(channel, on),
          stop: () => rec.control.stop(channel),
          setState: (state) => o.ari.setVariable(o.callerChannelId, 'DC_RECORDING', state),
        },
        o.log,
      );
    }
  }

  /** A DTMF digit from the caller (the recording keys). */
  dtmfReceived(channelId: string, digit: string): void {
    if (channelId === this.o.callerChannelId && !this.isEnding()) void this.recordingKeys?.onDigit(digit, Date.now());
  }

  /** Channel ids this session owns (for event routing). */
  get channelIds(): string[] {
    const i = this.ids;
    return [i.caller, i.callee, i.calleeOther, i.snoop, i.tapMedia];
  }

  /** A channel of ours entered Stasis: the callee answering, or a tap channel ready for its bridge. */
  async channelStarted(channelId: string): Promise<void> {
    if (channelId === this.ids.callee) return this.calleeAnswered();
    this.startedChannels.add(channelId);
    this.stasisWaiters.get(channelId)?.();
  }

  private waitStasisStart(channelId: string, timeoutMs: number): Promise<void> {
    if (this.startedChannels.has(channelId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stasisWaiters.delete(channelId);
        reject(new Error(`${channelId} did not enter Stasis within ${timeoutMs} ms`));
      }, timeoutMs);
      this.stasisWaiters.set(channelId, () => {
        clearTimeout(timer);
        this.stasisWaiters.delete(channelId);
        resolve();
      });
    });
  }

  /** A playback this session started has finished. */
  playbackFinished(playbackId: string): void {
    this.playbackWaiters.get(playbackId)?.();
  }

  private waitPlayback(playbackId: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.playbackWaiters.delete(playbackId);
        resolve();
      }, timeoutMs);
      this.playbackWaiters.set(playbackId, () => {
        clearTimeout(timer);
        this.playbackWaiters.delete(playbackId);
        resolve();
      });
    });
  }

  private recordCpaEvent(e: CpaEvent): void {
    this.cpaEvents.push(e);
    this.o.onCpaEvent?.(e);
    this.actions?.onEvent(e);
  }

  private startTap(): void {
    const t = this.o.tap;
    if (!t || !this.answeredAt) return;
    const { ari, log } = this.o;
    const skip = t.gate?.();
    if (skip) {
      // Backpressure: the call is bridged and recorded; only the analysis is left out, and says so.
      log.warn({ why: skip }, 'CPA tap skipped');
      this.recordCpaEvent({ result: 'unknown', at_ms: 0, cause: `tap skipped: ${skip}`, decision: true });
      return;
    }
    this.actions = new CpaActions({
      config: t.actions,
      log,
      setCallerVar: (name, value) => ari.setVariable(this.o.callerChannelId, name, value).catch(() => undefined),
      playToCaller: (media) => ari.playOnChannel(this.o.callerChannelId, media, this.ids.liveTone).catch(() => undefined),
      playToCall: async (media) => {
        const id = this.ids.drop;
        const done = this.waitPlayback(id, 120_000);
        await ari.playOnBridge(this.ids.bridge, media, id);
        await done;
      },
      endCall: (why) => void this.teardown(why),
    });
    this.tap = new CalleeTap({
      ari,
      app: this.o.app,
      log,
      receiver: t.receiver,
      rtpTarget: t.rtpTarget,
      codec: t.codec,
      params: t.params,
      ids: this.ids,
      answeredAt: this.answeredAt.getTime(),
      maxLagMs: t.maxLagMs,
      readyTimeoutMs: t.readyTimeoutMs,
      now: t.clock,
      service: t.service,
      stasisStarted: (id, ms) => this.waitStasisStart(id, ms),
      onEvent: (e) => this.recordCpaEvent(e),
    });
    void this.tap.start();
  }

  /**
   * Takes over a call a previous run of the service had bridged (found in Asterisk after a restart): it is
   * left to go on; when either side hangs up, the other is hung up and the bridge destroyed as usual.
   */
  adopt(state: { recordingFile: string | undefined; linkedid: string | undefined; startedAt: Date | undefined }): void {
    this.adopted = true;
    this.recordingFile = state.recordingFile;
    this.linkedid = state.linkedid;
    if (state.startedAt) this.startedAt = state.startedAt;
    this.calleeStarted = this.calleeCreated = this.bridgeCreated = true;
    this.state = 'bridged';
    this.o.log.info({ recording: this.recordingFile }, 'call taken over after a restart');
  }

  whenEnded(cb: (s: CallSummary) => void): void {
    this.onEnded = cb;
  }

  /**
   * The service is stopping but the call goes on (Asterisk keeps recording it): remove the tap, take no
   * more actions, report nothing. The next start takes the call over (StasisApp.reconcile).
   */
  async detach(): Promise<void> {
    this.actions?.cancel();
    this.onEnded = undefined;
    await this.tap?.stop('service stopping, the call goes on');
  }

  async start(): Promise<void> {
    const { ari, log } = this.o;
    try {
      const id = this.o.callerChannelId;
      // The linkedid ties this recording to the CDRs/CEL of every channel of the call. The three requests
      // go together: under load every round trip to Asterisk is time the callee's answer waits for.
      const [, file, linkedid] = await Promise.all([
        ari.answer(id),
        ari.getVariable(id, 'MIXMONITOR_FILENAME').catch(() => undefined),
        ari.getVariable(id, 'CHANNEL(linkedid)').catch(() => undefined),
      ]);
      this.recordingFile = file || undefined;
      this.linkedid = linkedid || undefined;
      // Write ahead: the catalog knows the call (and the file it will find) before it is dialled.
      await this.o.onStarted?.({
        uniqueid: id,
        ani: this.o.ani,
        dnis: this.o.dnis,
        recordingFile: this.recordingFile,
        linkedid: this.linkedid,
        startedAt: this.startedAt,
      });
      log.info({ recording: this.recordingFile }, 'caller answered');
      if (this.isEnding()) return;
      await ari.createBridge(this.ids.bridge, 'mixing', `dc-${this.o.dnis}`);
      this.bridgeCreated = true;
      if (this.isEnding()) return void this.cleanupLate();
      // Ringback so the agent hears progress while the far end rings; ignored if it fails.
      ari.playOnChannel(this.o.callerChannelId, 'tone:ring', this.ids.ringback).catch(() => undefined);
      this.state = 'dialing';
      const endpoint = this.o.endpoint.replace('${NUMBER}', this.o.dnis);
      await ari
        .originate({
          endpoint,
          app: this.o.app,
          appArgs: `${CALLEE_ARG},${this.o.callerChannelId}`,
          channelId: this.ids.callee,
          otherChannelId: this.ids.calleeOther,
          callerId: this.o.ani,
          timeoutSec: this.o.dialTimeoutSec,
          originator: this.o.callerChannelId,
        })
        .catch((e: Error) => {
          // "Allocation failed" alone does not tell an admin that the trunk's name is wrong.
          throw new Error(`could not dial ${endpoint} (dial.endpoint ${this.o.endpoint}): ${e.message}`);
        });
      this.calleeCreated = true;
      log.info({ endpoint, callee: this.ids.callee }, 'dialing callee');
      if (this.isEnding()) void this.cleanupLate();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'call setup failed');
      await this.teardown(`setup failed: ${(e as Error).message}`, 'congestion');
    }
  }

  /** The callee answered: its StasisStart arrived, so it may now join the bridge. */
  async calleeAnswered(): Promise<void> {
    const { ari, log } = this.o;
    this.calleeStarted = true;
    this.calleeCreated = true;
    if (this.isEnding()) {
      await this.cleanupLate();
      return;
    }
    this.answeredAt = new Date(this.o.tap?.clock?.() ?? Date.now());
    // The tap listens to the callee's channel, not the bridge: it starts at once, beside the bridging.
    this.startTap();
    try {
      ari.stopPlayback(this.ids.ringback).catch(() => undefined);
      await ari.addToBridge(this.ids.bridge, [this.o.callerChannelId, this.ids.callee]);
      if (this.isEnding()) return;
      this.state = 'bridged';
      log.info({ callee: this.ids.callee }, 'callee answered, bridged');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'bridging failed');
      await this.teardown(`bridging failed: ${(e as Error).message}`);
    }
  }

  /** A channel of ours left Stasis or was destroyed. */
  async channelGone(channelId: string, cause?: number, causeTxt?: string): Promise<void> {
    if (this.tap?.channelIds.includes(channelId)) return; // tap channels come and go with the tap
    if (channelId === this.o.callerChannelId) {
      await this.teardown('caller hung up');
    } else if (channelId === this.ids.callee) {
      if (!this.calleeStarted && cause !== undefined) {
        // Never answered: busy, no answer, unreachable. Tell the caller why.
        await this.teardown(`dial failed: ${causeTxt ?? cause}`, HANGUP_REASON_BY_CAUSE[cause] ?? 'normal');
      } else {
        await this.teardown('callee hung up');
      }
    }
  }

  /**
   * An operation that was in flight when teardown ran has now created something (bridge, callee leg):
   * remove it too, so nothing outlives the call.
   */
  private async cleanupLate(): Promise<void> {
    await this.teardown('late cleanup');
    const { ari, log } = this.o;
    await Promise.all([
      this.calleeCreated ? ari.hangup(this.ids.callee).catch(ignoreGone(log, 'late cleanup: callee')) : undefined,
      this.bridgeCreated ? ari.destroyBridge(this.ids.bridge).catch(ignoreGone(log, 'late cleanup: bridge')) : undefined,
    ]);
  }

  private isEnding(): boolean {
    return this.state === 'ending' || this.state === 'ended';
  }

  /** Hang up the other side and destroy what we created; safe to call any number of times. */
  teardown(cause: string, callerReason = 'normal'): Promise<CallSummary> {
    this.teardownDone ??= this.doTeardown(cause, callerReason);
    return this.teardownDone;
  }

  private async doTeardown(cause: string, callerReason: string): Promise<CallSummary> {
    const { ari, log } = this.o;
    this.state = 'ending';
    this.actions?.cancel();
    // The tap and the call's own channels go together: a slow tap must not hold the hangup back.
    await Promise.all([
      this.tap?.stop('call ended'),
      ari.hangup(this.o.callerChannelId, callerReason).catch(ignoreGone(log, 'hangup caller')),
      this.calleeCreated ? ari.hangup(this.ids.callee).catch(ignoreGone(log, 'hangup callee')) : undefined,
      this.bridgeCreated ? ari.destroyBridge(this.ids.bridge).catch(ignoreGone(log, 'destroy bridge')) : undefined,
    ]);
    this.state = 'ended';
    const summary: CallSummary = {
      uniqueid: this.o.callerChannelId,
      ani: this.o.ani,
      dnis: this.o.dnis,
      calleeChannelId: this.ids.callee,
      recordingFile: this.recordingFile,
      linkedid: this.linkedid,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
      endedAt: new Date(),
      cause,
      cpaEvents: this.cpaEvents,
      cpaResult: this.cpaEvents.find((e) => e.decision)?.result,
      recordingState: this.recordingKeys?.state ?? 'recording',
      tapLagMs: this.tap?.lagMs,
      adopted: this.adopted,
      outcome: this.answeredAt
        ? 'answered'
        : cause.startsWith('dial failed')
          ? callerReason.replace('normal', 'failed')
          : cause === 'caller hung up'
            ? 'caller_left'
            : 'failed',
    };
    log.info(
      {
        cause,
        recording: this.recordingFile,
        talkMs: this.answeredAt ? summary.endedAt.getTime() - this.answeredAt.getTime() : 0,
        cpa: summary.cpaResult,
        tapLagMs: summary.tapLagMs,
      },
      'call ended',
    );
    this.onEnded?.(summary);
    return summary;
  }
}
