import { CpaSession, type CpaEvent, type CpaParams } from '../../cpa';
import { CODEC_RATE, type RtpCodec, type RtpReceiver } from '../../media';
import type { Logger } from '../../log';
import type { AriPort } from '../ari-client';
import { SNOOP_ARG, type CallIds } from '../call-ids';

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
}

// The audio lost between the answer and the tap's first packet is replaced by silence, at most this much,
// so that the engine's clock still starts at the answer.
const MAX_PREFILL_MS = 2000;

/**
 * The callee's audio into the CPA engine: snoop (spy=in) -> a mixing bridge -> externalMedia RTP -> our
 * receiver -> CpaSession. Stops after a break event or total_timeout and always removes what it created.
 */
export class CalleeTap {
  readonly snoopId: string;
  readonly mediaId: string;
  readonly bridgeId: string;
  private source: string | undefined;
  private session: CpaSession;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private firstPacket = true;
  private readonly created = { bridge: false, snoop: false, media: false };

  constructor(private readonly o: CalleeTapOptions) {
    this.snoopId = o.ids.snoop;
    this.mediaId = o.ids.tapMedia;
    this.bridgeId = o.ids.tapBridge;
    // Live calls speak iraCPA codes everywhere (actions, channel variables, catalog); Voxeo names and the
    // maskevent filter are output options of the file tools only
    // (report_events too: the actions need every event).
    this.session = new CpaSession(o.params.voxeo_results || o.params.report_events.length ? { ...o.params, voxeo_results: false, report_events: [] } : o.params, CODEC_RATE[o.codec]);
  }

  get channelIds(): string[] {
    return [this.snoopId, this.mediaId];
  }

  async start(): Promise<void> {
    const { ari, app, log } = this.o;
    try {
      await ari.createBridge(this.bridgeId, 'mixing', 'dc-tap');
      this.created.bridge = true;
      if (this.stopped) return;
      const snoopIn = this.o.stasisStarted(this.snoopId, 5000);
      await ari.snoop(this.o.ids.callee, this.snoopId, app, 'in', `${SNOOP_ARG},${this.o.ids.caller}`);
      this.created.snoop = true;
      const mediaIn = this.o.stasisStarted(this.mediaId, 5000);
      const { source } = await ari.externalMedia({ channelId: this.mediaId, app, externalHost: this.o.rtpTarget, format: this.o.codec });
      this.created.media = true;
      this.source = source;
      if (this.stopped) return void this.cleanup();
      this.o.receiver.register(source, this.o.codec, (pcm) => this.onPcm(pcm));
      await Promise.all([snoopIn, mediaIn]);
      if (this.stopped) return void this.cleanup();
      await ari.addToBridge(this.bridgeId, [this.snoopId, this.mediaId]);
      log.info({ source, codec: this.o.codec }, 'CPA tap running');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'CPA tap setup failed');
      await this.stop('setup failed');
    }
  }

  private onPcm(pcm: Int16Array): void {
    if (this.stopped) return;
    if (this.firstPacket) {
      this.firstPacket = false;
      const lagMs = Math.min(MAX_PREFILL_MS, Math.max(0, Date.now() - this.o.answeredAt - 20));
      const n = Math.round((lagMs * CODEC_RATE[this.o.codec]) / 1000);
      if (n > 0) this.emit(this.session.push(new Int16Array(n)));
    }
    this.emit(this.session.push(pcm));
    if (this.session.done) void this.stop('analysis finished');
  }

  private emit(events: CpaEvent[]): void {
    for (const e of events) this.o.onEvent(e);
  }

  /** Stop listening: flush the engine (its last events are delivered) and remove the tap. Idempotent. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.source) this.o.receiver.unregister(this.source);
      this.emit(this.session.end());
      this.o.log.info({ reason }, 'CPA tap stopped');
      await this.cleanup();
    })();
    return this.stopping;
  }

  private async cleanup(): Promise<void> {
    const { ari, log } = this.o;
    const quiet = (what: string) => (e: { notFound?: boolean; message?: string }) => {
      if (!e?.notFound) log.warn({ err: e?.message, what }, 'tap cleanup step failed');
    };
    await Promise.all([
      this.created.snoop ? ari.hangup(this.snoopId).catch(quiet('snoop')) : undefined,
      this.created.media ? ari.hangup(this.mediaId).catch(quiet('externalMedia')) : undefined,
      this.created.bridge ? ari.destroyBridge(this.bridgeId).catch(quiet('tap bridge')) : undefined,
    ]);
  }
}
