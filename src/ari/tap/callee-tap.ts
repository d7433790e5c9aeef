import type { CpaEvent, CpaParams } from '../../cpa';
import { localAnalyser, remoteAnalyser, type Analyser } from './analysers';
import { CODEC_RATE, type RtpCodec, type RtpReceiver, type RtpStream } from '../../media';
import type { Logger } from '../../log';
import type { AriPort } from '../ari-client';
import { SNOOP_ARG, type CallIds } from '../call-ids';
import { ignoreGone } from '../ignore-gone';

export interface CalleeTapOptions {
  ari: AriPort;
  app: string;
  log: Logger;
  receiver: RtpReceiver;
  /** host:port of our RTP socket, as Asterisk must send to it. */
  rtpTarget: string;
  codec: RtpCodec;
  params: CpaParams;
  ids: CallIds;
  /** Wall-clock time of the callee's answer: t = 0 of the analysis. */
  answeredAt: number;
  onEvent(e: CpaEvent): void;
  /** Resolves when a channel we created has entered Stasis (only then may it join a bridge). */
  stasisStarted(channelId: string, timeoutMs: number): Promise<void>;
  /** Audio starting later than this after the answer: the decision is reported as unknown. */
  maxLagMs: number;
  /** How long the snoop and externalMedia channels may take to enter Stasis. */
  readyTimeoutMs?: number;
  /** Wall clock (tests). */
  now?: () => number;
  /** Analyse on a CPA server (cpa.serviceUrl) under this configuration name instead of in this process. */
  service?: { url: string; config: string };
}

// Packetisation: the first RTP packet carries the 20 ms that came before it.
const PACKET_MS = 20;
// More of the callee's audio missing than this when the decision falls (sequence gaps filled with silence)
// and the engine judged stretches that were never heard: the decision is reported as unknown.
const MAX_LOSS = 0.05;
// Audio that arrives at less than half the pace of the wall clock (and over a second behind it): Asterisk
// is not keeping the tap fed (seen under CPU starvation: packets stop, no sequence gap tells). Whatever the
// engine decides on the little it heard is a guess.
const MIN_PACE = 0.5;
const MAX_BEHIND_MS = 1000;

/**
 * The callee's audio into the CPA engine: snoop (spy=in) -> a mixing bridge -> externalMedia RTP -> our
 * receiver -> CpaSession. Stops after a break event or total_timeout and always removes what it created.
 *
 * The engine's clock starts at the answer: the stretch before the first packet is given to it as silence.
 * When that stretch is longer than `maxLagMs` the engine may have missed the greeting, and silence would
 * read as "a person waiting"; the first decision is then reported as `unknown` with the lag as its cause
 * (the engine's own guess in `heard`), and no action is taken on it.
 */
export class CalleeTap {
  readonly snoopId: string;
  readonly mediaId: string;
  readonly bridgeId: string;
  private source: string | undefined;
  private stream: RtpStream | undefined;
  private readonly analyser: Analyser;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private firstPacket = true;
  /** Samples given to the engine (the silence standing for the lag included). */
  private heardSamples = 0;
  private decided = false;
  /** ms between the answer and the first audio, once known. */
  lagMs: number | undefined;
  private readonly created = { bridge: false, snoop: false, media: false };
  private readonly now: () => number;

  constructor(private readonly o: CalleeTapOptions) {
    this.snoopId = o.ids.snoop;
    this.mediaId = o.ids.tapMedia;
    this.bridgeId = o.ids.tapBridge;
    this.now = o.now ?? Date.now;
    const rate = CODEC_RATE[o.codec] as 8000 | 16000;
    const onEvents = (events: CpaEvent[]) => this.emit(events);
    this.analyser = o.service
      ? remoteAnalyser(
          { url: o.service.url, config: o.service.config, callUuid: o.ids.caller, params: o.params, rate, log: o.log },
          onEvents,
        )
      : localAnalyser(o.params, rate, onEvents);
  }

  get channelIds(): string[] {
    return [this.snoopId, this.mediaId];
  }

  /**
   * Sets the tap up; never rejects. The three REST calls run together (each one's StasisStart is awaited
   * only after that call returned: an early event is remembered by the session), then the two channels
   * join the bridge. A failure or a timeout ends the tap with an `unknown` result naming the reason.
   */
  async start(): Promise<void> {
    const { ari, app, log } = this.o;
    const readyMs = this.o.readyTimeoutMs ?? 5000;
    try {
      const bridge = ari.createBridge(this.bridgeId, 'mixing', 'dc-tap').then(() => {
        this.created.bridge = true;
      });
      const snoop = ari.snoop(this.o.ids.callee, this.snoopId, app, 'in', `${SNOOP_ARG},${this.o.ids.caller}`).then(() => {
        this.created.snoop = true;
        return this.o.stasisStarted(this.snoopId, readyMs);
      });
      const media = ari
        .externalMedia({ channelId: this.mediaId, app, externalHost: this.o.rtpTarget, format: this.o.codec })
        .then(({ source }) => {
          this.created.media = true;
          this.source = source;
          if (!this.stopped) this.stream = this.o.receiver.register(source, this.o.codec, (pcm) => this.onPcm(pcm));
          return this.o.stasisStarted(this.mediaId, readyMs);
        });
      // allSettled first: every step has finished (so `created` is complete) before a failure is handled.
      const results = await Promise.allSettled([bridge, snoop, media]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (this.stopped) return void (await this.cleanup());
      await ari.addToBridge(this.bridgeId, [this.snoopId, this.mediaId]);
      log.info({ source: this.source, codec: this.o.codec, setupMs: this.now() - this.o.answeredAt }, 'CPA tap running');
    } catch (e) {
      const reason = (e as Error)?.message ?? String(e);
      if (this.stopped) {
        // The call ended while the tap was being set up: nothing to report, only to clean.
        await this.cleanup();
        return;
      }
      log.warn({ err: reason }, 'CPA tap not ready: the call goes on without analysis');
      this.report({
        result: 'unknown',
        at_ms: Math.max(0, this.now() - this.o.answeredAt),
        cause: `tap not ready: ${reason}`,
        decision: true,
      });
      await this.stop('tap not ready');
    }
  }

  private onPcm(pcm: Int16Array): void {
    if (this.stopped) return;
    if (this.firstPacket) {
      this.firstPacket = false;
      const lag = Math.max(0, this.now() - this.o.answeredAt - PACKET_MS);
      this.lagMs = lag;
      if (lag > this.o.maxLagMs)
        this.o.log.warn({ lagMs: lag, maxLagMs: this.o.maxLagMs }, 'CPA tap started late: its decision will be reported as unknown');
      // Silence for the stretch before the first packet keeps the engine's times relative to the answer.
      const n = Math.round((lag * CODEC_RATE[this.o.codec]) / 1000);
      if (n > 0) this.analyser.push(new Int16Array(n));
      this.heardSamples += n;
    }
    this.heardSamples += pcm.length;
    this.analyser.push(pcm);
    if (this.analyser.done) void this.stop('analysis finished');
  }

  private emit(events: CpaEvent[]): void {
    for (const e of events) {
      const doubt = e.decision ? this.doubt() : undefined;
      if (doubt) this.report({ result: 'unknown', at_ms: e.at_ms, cause: doubt, decision: true, heard: String(e.result) });
      else this.report(e);
    }
  }

  /** Why the engine's decision cannot be trusted: it missed the start, or much of what came after. */
  private doubt(): string | undefined {
    if (this.lagMs !== undefined && this.lagMs > this.o.maxLagMs) return `tap started ${Math.round(this.lagMs)} ms after the answer`;
    const wallMs = this.now() - this.o.answeredAt;
    const heardMs = (this.heardSamples * 1000) / CODEC_RATE[this.o.codec];
    if (wallMs - heardMs > MAX_BEHIND_MS && heardMs < wallMs * MIN_PACE)
      return `the tap received ${Math.round(heardMs)} ms of the callee's audio in ${Math.round(wallMs)} ms`;
    const st = this.stream?.stats;
    if (st && st.lost > (st.lost + st.packets) * MAX_LOSS)
      return `the tap lost ${Math.round((100 * st.lost) / (st.lost + st.packets))} % of the callee's audio (${st.lost} of ${st.lost + st.packets} packets)`;
    return undefined;
  }

  private report(e: CpaEvent): void {
    if (e.decision) {
      // One decision per call, whoever makes it (the engine, a late or failed tap).
      if (this.decided) return;
      this.decided = true;
    }
    this.o.onEvent(e);
  }

  /** Stop listening: flush the engine (its last events are delivered) and remove the tap. Idempotent. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.source) this.o.receiver.unregister(this.source);
      this.o.log.info({ reason, rtp: this.stream?.stats }, 'CPA tap stopped');
      // The analysis' last words and the removal of the tap's channels go together.
      await Promise.all([this.analyser.end(), this.cleanup()]);
    })();
    return this.stopping;
  }

  private async cleanup(): Promise<void> {
    const { ari, log } = this.o;
    await Promise.all([
      this.created.snoop ? ari.hangup(this.snoopId).catch(ignoreGone(log, 'tap: snoop')) : undefined,
      this.created.media ? ari.hangup(this.mediaId).catch(ignoreGone(log, 'tap: externalMedia')) : undefined,
      this.created.bridge ? ari.destroyBridge(this.bridgeId).catch(ignoreGone(log, 'tap: bridge')) : undefined,
    ]);
  }
}
