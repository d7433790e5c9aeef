import { EventEmitter } from 'node:events';
import { callLogger, type Logger } from '../log';
import type { AriEvent, AriPort } from './ari-client';
import { CALLEE_ARG, CallSession, type CallSummary } from './call-session';

export interface StasisAppOptions {
  ari: AriPort & EventEmitter;
  app: string;
  log: Logger;
  endpoint: string;
  dialTimeoutSec: number;
  numberPattern: RegExp;
}

/**
 * Routes Stasis events to the CallSession that owns the channel. Emits 'call-ended' (CallSummary) for the
 * modules downstream (catalog, transport).
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
    const ch = ev.channel;
    if (!ch) return;
    switch (ev.type) {
      case 'StasisStart':
        return this.onStasisStart(ev);
      case 'StasisEnd':
        return this.byChannel.get(ch.id)?.channelGone(ch.id);
      case 'ChannelDestroyed':
        return this.byChannel.get(ch.id)?.channelGone(ch.id, ev.cause, ev.cause_txt);
      default:
        return;
    }
  }

  private async onStasisStart(ev: AriEvent): Promise<void> {
    const ch = ev.channel!;
    const args = ev.args ?? [];
    if (args[0] === CALLEE_ARG) {
      const session = this.byChannel.get(args[1] ?? '');
      if (session) return session.calleeAnswered();
      // Its caller is gone (or we restarted): nothing may be left behind.
      this.o.log.warn({ channel: ch.id }, 'orphan callee leg, hanging up');
      await this.o.ari.hangup(ch.id).catch(() => undefined);
      return;
    }
    if (this.byChannel.has(ch.id)) return; // duplicate delivery after a WebSocket reconnect
    const dnis = args[0] ?? '';
    const ani = ch.caller?.number ?? '';
    const log = callLogger(this.o.log, ch.id, { ani, dnis });
    if (!this.o.numberPattern.test(dnis)) {
      log.warn({ args }, 'Stasis argument is not a dialable number; hanging up');
      await this.o.ari.hangup(ch.id, 'unallocated').catch(() => undefined);
      return;
    }
    const session = new CallSession({
      ari: this.o.ari,
      app: this.o.app,
      log,
      callerId: ch.id,
      ani,
      dnis,
      endpoint: this.o.endpoint,
      dialTimeoutSec: this.o.dialTimeoutSec,
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
