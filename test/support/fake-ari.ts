// A fake AriPort for unit tests of call logic: it keeps the channels and bridges a real Asterisk would,
// records every call, and can delay or fail any method. It never stands in for the sandbox in an
// integration test.
import { EventEmitter } from 'node:events';
import { AriError, type AriChannel, type AriEvent, type AriPort, type OriginateRequest } from '../../src/ari/ari-client';

type Method = keyof AriPort;

export class FakeAri extends EventEmitter implements AriPort {
  readonly channels = new Map<string, AriChannel>();
  readonly bridges = new Map<string, { id: string; channels: string[]; name?: string }>();
  readonly calls: { method: Method; args: unknown[] }[] = [];
  /** ms a method takes before it resolves (or rejects). */
  readonly delays: Partial<Record<Method, number>> = {};
  /** A method that rejects (after its delay) with this error. */
  readonly failures: Partial<Record<Method, AriError>> = {};
  /** Channels created by snoop/externalMedia enter Stasis by themselves after this many ms (undefined: never). */
  stasisStartAfterMs: number | undefined = 0;
  private nextPort = 30000;

  constructor() {
    super();
  }

  addChannel(id: string, name = `PJSIP/${id}`, state = 'Up'): void {
    this.channels.set(id, { id, name, state });
  }

  emitEvent(ev: AriEvent): void {
    this.emit('event', ev);
  }

  /** Lets pending timers and promise callbacks run. */
  static async settle(ms = 0): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  private async step<T>(method: Method, args: unknown[], fn: () => T): Promise<T> {
    this.calls.push({ method, args });
    const d = this.delays[method];
    if (d) await new Promise((r) => setTimeout(r, d));
    const f = this.failures[method];
    if (f) throw f;
    return fn();
  }

  private gone(what: string): never {
    throw new AriError(`${what} not found`, 404);
  }

  answer(channelId: string): Promise<void> {
    return this.step('answer', [channelId], () => {
      if (!this.channels.has(channelId)) this.gone('Channel');
    });
  }

  hangup(channelId: string, reason?: string): Promise<void> {
    return this.step('hangup', [channelId, reason], () => {
      if (!this.channels.delete(channelId)) this.gone('Channel');
      for (const b of this.bridges.values()) b.channels = b.channels.filter((c) => c !== channelId);
    });
  }

  originate(req: OriginateRequest): Promise<void> {
    return this.step('originate', [req], () => {
      this.addChannel(req.channelId, `Local/${req.endpoint}`, 'Down');
      if (req.otherChannelId) this.addChannel(req.otherChannelId, `Local/${req.endpoint};2`, 'Down');
    });
  }

  createBridge(bridgeId: string, _type: 'mixing' | 'holding', name?: string): Promise<void> {
    return this.step('createBridge', [bridgeId, name], () => {
      this.bridges.set(bridgeId, { id: bridgeId, channels: [], name });
    });
  }

  addToBridge(bridgeId: string, channelIds: string[]): Promise<void> {
    return this.step('addToBridge', [bridgeId, channelIds], () => {
      const b = this.bridges.get(bridgeId) ?? this.gone('Bridge');
      for (const c of channelIds) if (!this.channels.has(c)) throw new AriError('Channel not found', 422);
      b.channels.push(...channelIds);
    });
  }

  destroyBridge(bridgeId: string): Promise<void> {
    return this.step('destroyBridge', [bridgeId], () => {
      if (!this.bridges.delete(bridgeId)) this.gone('Bridge');
    });
  }

  playOnChannel(channelId: string, media: string, playbackId: string): Promise<void> {
    return this.step('playOnChannel', [channelId, media, playbackId], () => undefined);
  }

  playOnBridge(bridgeId: string, media: string, playbackId: string): Promise<void> {
    return this.step('playOnBridge', [bridgeId, media, playbackId], () => undefined);
  }

  snoop(channelId: string, snoopId: string, app: string, spy: 'in' | 'out' | 'both', appArgs: string): Promise<void> {
    return this.step('snoop', [channelId, snoopId, app, spy, appArgs], () => {
      if (!this.channels.has(channelId)) this.gone('Channel');
      this.addChannel(snoopId, `Snoop/${channelId}`);
      this.startLater(snoopId, appArgs);
    });
  }

  externalMedia(req: { channelId: string; app: string; externalHost: string; format: string }): Promise<{ source: string }> {
    return this.step('externalMedia', [req], () => {
      this.addChannel(req.channelId, `UnicastRTP/${req.externalHost}`);
      this.startLater(req.channelId, '');
      return { source: `127.0.0.1:${this.nextPort++}` };
    });
  }

  private startLater(id: string, args: string): void {
    const after = this.stasisStartAfterMs;
    if (after === undefined) return;
    setTimeout(() => {
      if (this.channels.has(id)) this.emitEvent({ type: 'StasisStart', channel: this.channels.get(id)!, args: args.split(',') });
    }, after);
  }

  stopPlayback(playbackId: string): Promise<void> {
    return this.step('stopPlayback', [playbackId], () => undefined);
  }

  getVariable(channelId: string, name: string): Promise<string> {
    return this.step('getVariable', [channelId, name], () => {
      if (name === 'MIXMONITOR_FILENAME')
        return `/var/spool/asterisk/monitor/2026/12/01/20261201-090000-2125550100-4175551234-${channelId}.wav`;
      if (name === 'CHANNEL(linkedid)') return channelId;
      return '';
    });
  }

  setVariable(channelId: string, name: string, value: string): Promise<void> {
    return this.step('setVariable', [channelId, name, value], () => undefined);
  }

  listChannels(): Promise<AriChannel[]> {
    return this.step('listChannels', [], () => [...this.channels.values()].map((c) => ({ ...c })));
  }

  listBridges(): Promise<{ id: string; channels: string[]; name?: string }[]> {
    return this.step('listBridges', [], () => [...this.bridges.values()].map((b) => ({ ...b, channels: [...b.channels] })));
  }

  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}
