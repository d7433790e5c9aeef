import type { CpaParams } from '../cpa';
import { EventEmitter } from 'node:events';
import { callLogger, type Logger } from '../log';
import type { AriEvent, AriPort } from './ari-client';
import { CallSession, type CallSessionOptions, type CallStart, type CallSummary } from './call-session';
import { callerOf, callIds } from './call-ids';
import { ignoreGone } from './ignore-gone';

/** Named CPA configurations (the config file's, then the catalog's). */
export interface NamedCpaConfigs {
  get(name: string): Promise<CpaParams | undefined>;
  keys(): Promise<string[]>;
}

/** What the catalog wrote ahead for a call (to take it over after a restart). */
export interface KnownCall {
  ani: string;
  dnis: string;
  recordingFile: string | undefined;
  linkedid: string | undefined;
  startedAt: Date | undefined;
}

export interface Backpressure {
  /** Calls in progress above which new calls skip the tap (0 = no limit). */
  maxConcurrentCalls: number;
  /** Median ARI request time above which new calls skip the tap. */
  maxAriLatencyMs: number;
  /** The median of recent ARI request times. */
  ariLatencyMs(): number;
}

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
  cpaConfigs?: NamedCpaConfigs;
  /** When new calls go without the tap. */
  backpressure?: Backpressure;
  /** The write-ahead row of a call, by uniqueid (after a restart). */
  knownCall?: (uniqueid: string) => Promise<KnownCall | undefined>;
  /** Uniqueids of calls written ahead and not finished (a caller whose set-up a crash cut off has no other trace). */
  openCalls?: () => Promise<string[]>;
  /** The catalog's row for a call that starts, awaited before it is dialled (never rejects). */
  writeAhead?: (s: CallStart) => Promise<void>;
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
 * (catalog, transport, monitor): 'call-started' (CallStart), 'call-ended' (CallSummary) and
 * 'cpa' ({ uniqueid, ani, dnis, event }).
 */
export class StasisApp extends EventEmitter {
  private readonly byChannel = new Map<string, CallSession>();
  private readonly sessions = new Set<CallSession>();
  /** Calls answered without the tap because of backpressure, and why. */
  readonly stats = { tapsSkipped: 0, adopted: 0, orphansRemoved: 0 };
  private reconciling: Promise<void> | undefined;

  constructor(private readonly o: StasisAppOptions) {
    super();
    o.ari.on('event', (ev: AriEvent) => {
      this.dispatch(ev).catch((e: unknown) =>
        o.log.error({ err: (e as Error).message, type: ev.type, channel: ev.channel?.id }, 'event handling failed'),
      );
    });
    // After every (re)connection: take over our calls a previous run left up, remove what they left behind.
    o.ari.on('connected', () => void this.reconcile());
  }

  get activeCalls(): number {
    return this.sessions.size;
  }

  /** Is this call (by its caller's uniqueid) served by this process? */
  isActive(uniqueid: string): boolean {
    return this.byChannel.has(uniqueid);
  }

  private tapGate(): string | undefined {
    const b = this.o.backpressure;
    if (!b) return undefined;
    let why: string | undefined;
    if (b.maxConcurrentCalls > 0 && this.sessions.size > b.maxConcurrentCalls)
      why = `over cpa.maxConcurrentCalls (${this.sessions.size} calls > ${b.maxConcurrentCalls})`;
    else {
      const lat = b.ariLatencyMs();
      if (lat > b.maxAriLatencyMs) why = `Asterisk is slow (ARI median ${Math.round(lat)} ms > cpa.maxAriLatencyMs ${b.maxAriLatencyMs})`;
    }
    if (why) this.stats.tapsSkipped++;
    return why;
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
      const chosen = await this.o.cpaConfigs?.get(cpaName).catch(() => undefined);
      if (chosen) {
        tap = { ...tap, params: chosen, service: tap.service && { ...tap.service, config: cpaName } };
        log.info({ cpaConfig: cpaName }, 'CPA configuration for this call');
      } else
        log.warn(
          { cpaConfig: cpaName, known: await this.o.cpaConfigs?.keys().catch(() => []) },
          'error 03: CPA configuration not found; using the defaults',
        );
    }
    const session = this.newSession(ch.id, ch.name, ani, dnis, log, tap);
    await session.start();
  }

  private newSession(id: string, name: string, ani: string, dnis: string, log: Logger, tap = this.o.tap): CallSession {
    const session = new CallSession({
      ari: this.o.ari,
      app: this.o.app,
      log,
      callerChannelId: id,
      callerChannelName: name,
      ani,
      dnis,
      endpoint: this.o.endpoint,
      dialTimeoutSec: this.o.dialTimeoutSec,
      tap: tap && { ...tap, gate: () => this.tapGate() },
      recording: this.o.recording,
      onCpaEvent: (event) => this.emit('cpa', { uniqueid: id, ani, dnis, event }),
      onStarted: async (s: CallStart) => {
        this.emit('call-started', s);
        await this.o.writeAhead?.(s);
      },
    });
    this.sessions.add(session);
    for (const cid of session.channelIds) this.byChannel.set(cid, session);
    session.whenEnded((summary: CallSummary) => {
      this.sessions.delete(session);
      for (const cid of session.channelIds) this.byChannel.delete(cid);
      this.emit('call-ended', summary);
    });
    return session;
  }

  /**
   * What a previous run of the service (killed, crashed) left in Asterisk, found by our derived ids: a call
   * that is bridged goes on and is taken over (its hangup ends it as usual and completes its recording);
   * everything else of a call no longer served (tap channels and bridges, a callee without its caller, a
   * caller whose set-up was cut off) is hung up or destroyed. Runs after each (re)connection.
   */
  reconcile(): Promise<void> {
    this.reconciling ??= this.doReconcile()
      .catch((e: unknown) => this.o.log.warn({ err: (e as Error).message }, 'could not check Asterisk for calls left by a previous run'))
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async doReconcile(): Promise<void> {
    const { ari, log } = this.o;
    const [channels, bridges] = await Promise.all([ari.listChannels(), ari.listBridges()]);
    const alive = new Map(channels.map((c) => [c.id, c]));
    const bridgeById = new Map(bridges.map((b) => [b.id, b]));
    const adopted: { session: CallSession; caller: string; callee: string }[] = [];
    // Callers (uniqueids) that own something of ours in Asterisk but no session here.
    const callers = new Set<string>();
    for (const id of [...alive.keys(), ...bridges.map((b) => b.id)]) {
      const caller = callerOf(id);
      if (caller !== undefined && !this.byChannel.has(caller)) callers.add(caller);
    }
    for (const u of (await this.o.openCalls?.().catch(() => [])) ?? []) if (alive.has(u) && !this.byChannel.has(u)) callers.add(u);
    for (const caller of callers) {
      if (this.byChannel.has(caller)) continue; // a StasisStart arrived meanwhile
      const ids = callIds(caller);
      const callerCh = alive.get(caller);
      const bridge = bridgeById.get(ids.bridge);
      const known = await this.o.knownCall?.(caller).catch(() => undefined);
      const tapIds = [ids.snoop, ids.tapMedia].filter((id) => alive.has(id));
      const tapBridge = bridgeById.has(ids.tapBridge);
      // The old tap is useless without the process that read it.
      await Promise.all([
        ...tapIds.map((id) => ari.hangup(id).catch(ignoreGone(log, 'orphan tap channel'))),
        tapBridge ? ari.destroyBridge(ids.tapBridge).catch(ignoreGone(log, 'orphan tap bridge')) : undefined,
      ]);
      const bridged =
        callerCh && alive.has(ids.callee) && bridge && bridge.channels.includes(caller) && bridge.channels.includes(ids.callee);
      if (bridged) {
        const callLog = callLogger(log, caller, { ani: known?.ani ?? '', dnis: known?.dnis ?? '' });
        const session = this.newSession(caller, callerCh.name, known?.ani ?? '', known?.dnis ?? '', callLog);
        session.adopt({ recordingFile: known?.recordingFile, linkedid: known?.linkedid, startedAt: known?.startedAt });
        this.stats.adopted++;
        adopted.push({ session, caller, callee: ids.callee });
        continue;
      }
      const left = [caller, ids.callee, ids.calleeOther].filter((id) => alive.has(id));
      if (left.length || bridge)
        log.warn({ uniqueid: caller, channels: left, bridge: bridge?.id }, 'call left unfinished by a previous run: hung up');
      await Promise.all([
        ...left.map((id) => ari.hangup(id).catch(ignoreGone(log, 'orphan channel'))),
        bridge ? ari.destroyBridge(ids.bridge).catch(ignoreGone(log, 'orphan bridge')) : undefined,
      ]);
      this.stats.orphansRemoved += left.length + tapIds.length + (bridge ? 1 : 0) + (tapBridge ? 1 : 0);
    }
    if (!adopted.length) return;
    // A hangup while we were away (or while we looked) has no event left to tell us: check once more, now
    // that the taken-over calls are ours and their events are routed to them.
    const still = new Set((await ari.listChannels().catch(() => channels)).map((c) => c.id));
    for (const a of adopted) {
      if (!still.has(a.caller)) void a.session.channelGone(a.caller);
      else if (!still.has(a.callee)) void a.session.channelGone(a.callee);
    }
  }

  /** Hang up every call in progress (service shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.teardown('service shutdown')));
  }

  /** Stop serving calls but leave them up (SIGTERM): each is taken over by the next start. */
  async detach(): Promise<number> {
    const n = this.sessions.size;
    await Promise.all([...this.sessions].map((s) => s.detach()));
    this.sessions.clear();
    this.byChannel.clear();
    return n;
  }
}
