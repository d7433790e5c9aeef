import type { CpaParams } from '../cpa';
import { EventEmitter } from 'node:events';
import { callLogger, type Logger } from '../log';
import type { AriEvent, AriPort } from './ari-client';
import { CallSession, type CallSessionOptions, type CallSummary } from './call-session';
import { callerOf } from './call-ids';

export interface StasisAppOptions {
  ari: AriPort & EventEmitter;
  app: string;
  log: Logger;
  endpoint: string;
  dialTimeoutSec: number;
  numberPattern: RegExp;
  /** CPA tap settings for every call; absent when CPA is off. */
  tap?: CallSessionOptions['tap'];
  /** DTMF recording control; absent when off. */
  recording?: CallSessionOptions['recording'];
  /** Named CPA configurations a call may pick with the Stasis argument cpa=NAME. */
  cpaConfigs?: ReadonlyMap<string, CpaParams>;
}

/** Stasis(app,NUMBER,key=value,...): the options after the number. */
function stasisOptions(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of args.slice(1)) {
    const i = a.indexOf('=');
    if (i > 0) out.set(a.slice(0, i).trim(), a.slice(i + 1).trim());
  }
  return out;
}

/**
 * Routes Stasis events to the CallSession that owns the channel. Emits, for the modules downstream
 * (catalog, transport, monitor): 'call-ended' (CallSummary) and 'cpa' ({ uniqueid, ani, dnis, event }).
 */
export class StasisApp extends EventEmitter {
  private readonly byChannel = new Map<string, CallSession>();
  private readonly sessions = new Set<CallSession>();

  constructor(private readonly o: StasisAppOptions) {
    super();
    o.ari.on('event', (ev: AriEvent) => {
      this.dispatch(ev).catch((e: unknown) => o.log.error({ err: (e as Error).message, type: ev.type }, 'event handling failed'));
    });
  }

  get activeCalls(): number {
    return this.sessions.size;
  }

  private async dispatch(ev: AriEvent): Promise<void> {
    if (ev.type === 'PlaybackFinished' && ev.playback) {
      const id = ev.playback.id;
      this.byChannel.get(callerOf(id) ?? '')?.playbackFinished(id);
      return;
    }
    const ch = ev.channel;
    if (!ch) return;
    switch (ev.type) {
      case 'StasisStart':
        return this.onStasisStart(ev);
      case 'StasisEnd':
        return this.byChannel.get(ch.id)?.channelGone(ch.id);
      case 'ChannelDestroyed':
        return this.byChannel.get(ch.id)?.channelGone(ch.id, ev.cause, ev.cause_txt);
      case 'ChannelDtmfReceived':
        return this.byChannel.get(ch.id)?.dtmfReceived(ch.id, ev.digit ?? '');
      default:
        return;
    }
  }

  private async onStasisStart(ev: AriEvent): Promise<void> {
    const ch = ev.channel!;
    const args = ev.args ?? [];
    const owner = this.byChannel.get(ch.id);
    if (owner) {
      // The callee answering, or a tap channel (snoop, externalMedia) ready; a repeat of the caller's own
      // StasisStart after a WebSocket reconnect is ignored there.
      if (ch.id !== owner.ids.caller) await owner.channelStarted(ch.id);
      return;
    }
    if (callerOf(ch.id) !== undefined) {
      // Its call is gone (or we restarted): nothing may be left behind.
      this.o.log.warn({ channel: ch.id }, 'orphan channel of ours, hanging up');
      await this.o.ari.hangup(ch.id).catch(() => undefined);
      return;
    }
    const dnis = args[0] ?? '';
    const ani = ch.caller?.number ?? '';
    const log = callLogger(this.o.log, ch.id, { ani, dnis });
    if (!this.o.numberPattern.test(dnis)) {
      log.warn({ args }, 'Stasis argument is not a dialable number; hanging up');
      await this.o.ari.hangup(ch.id, 'unallocated').catch(() => undefined);
      return;
    }
    // A named CPA configuration for this call; an unknown name is the admin's typo, not the caller's fault:
    // the call goes on with the default parameters (iraCPA error 03, config not found, in the log).
    let tap = this.o.tap;
    const cpaName = stasisOptions(args).get('cpa');
    if (tap && cpaName) {
      const chosen = this.o.cpaConfigs?.get(cpaName);
      if (chosen) {
        tap = { ...tap, params: chosen };
        log.info({ cpaConfig: cpaName }, 'CPA configuration for this call');
      } else log.warn({ cpaConfig: cpaName, known: [...(this.o.cpaConfigs?.keys() ?? [])] }, 'error 03: CPA configuration not found; using the defaults');
    }
    const session = new CallSession({
      ari: this.o.ari,
      app: this.o.app,
      log,
      callerId: ch.id,
      callerName: ch.name,
      ani,
      dnis,
      endpoint: this.o.endpoint,
      dialTimeoutSec: this.o.dialTimeoutSec,
      tap,
      recording: this.o.recording,
      onCpaEvent: (event) => this.emit('cpa', { uniqueid: ch.id, ani, dnis, event }),
    });
    this.sessions.add(session);
    for (const id of session.channelIds) this.byChannel.set(id, session);
    session.whenEnded((summary: CallSummary) => {
      this.sessions.delete(session);
      for (const id of session.channelIds) this.byChannel.delete(id);
      this.emit('call-ended', summary);
    });
    await session.start();
  }

  /** Hang up every call in progress (service shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.teardown('service shutdown')));
  }
}
