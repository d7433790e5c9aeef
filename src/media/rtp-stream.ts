import { decodeAlaw, decodeUlaw } from './g711';
import type { RtpPacket } from './rtp-packet';

export type RtpCodec = 'ulaw' | 'alaw' | 'slin16';

export const CODEC_RATE: Record<RtpCodec, number> = { ulaw: 8000, alaw: 8000, slin16: 16000 };

export interface RtpStreamStats {
  packets: number;
  duplicates: number;
  late: number;
  lost: number;
  reordered: number;
  ssrcChanges: number;
}

// Packets held back to put a reordered stream right again: 4 x 20 ms = 80 ms of extra delay at most.
const WINDOW = 4;

const diff16 = (a: number, b: number) => ((a - b + 0x18000) & 0xffff) - 0x8000;

/**
 * One inbound RTP stream: orders packets by sequence number within a small window, drops duplicates and
 * packets too late to use, and fills losses with silence so that audio time stays true. Decoded PCM16
 * frames go to `onPcm` in order.
 */
export class RtpStream {
  readonly stats: RtpStreamStats = { packets: 0, duplicates: 0, late: 0, lost: 0, reordered: 0, ssrcChanges: 0 };
  private ssrc: number | undefined;
  private next = -1; // next sequence number to deliver
  private readonly held = new Map<number, Uint8Array>();
  /** Sequence numbers delivered lately, to tell a duplicate from a packet that came too late. */
  private readonly recent = new Int32Array(32).fill(-1);
  private recentPos = 0;
  private lastSamples = 160;

  constructor(
    readonly codec: RtpCodec,
    private readonly onPcm: (pcm: Int16Array) => void,
  ) {}

  push(p: RtpPacket): void {
    this.stats.packets++;
    if (this.ssrc !== p.ssrc) {
      if (this.ssrc !== undefined) {
        // A new source (re-INVITE, transfer): play out what is held, then start over on its numbering.
        this.stats.ssrcChanges++;
        this.flush();
      }
      this.ssrc = p.ssrc;
      this.next = p.sequence;
    }
    const d = diff16(p.sequence, this.next);
    if (d < 0 && d > -1000) {
      if (this.recent.includes(p.sequence)) this.stats.duplicates++;
      else this.stats.late++; // its time was already filled as lost
      return;
    }
    // Far off either way: the sender restarted its numbering.
    if (d <= -1000 || d > 1000) this.resync(p.sequence);
    const seq = p.sequence;
    if (this.held.has(seq)) {
      this.stats.duplicates++;
      return;
    }
    if (seq !== this.next) this.stats.reordered++;
    // Copy: the datagram buffer is reused by the socket.
    this.held.set(seq, Uint8Array.from(p.payload));
    this.drain(false);
  }

  /** Deliver everything held, filling gaps (end of the stream). */
  flush(): void {
    this.drain(true);
  }

  private resync(seq: number): void {
    this.flush();
    this.next = seq;
  }

  private drain(all: boolean): void {
    for (;;) {
      const payload = this.held.get(this.next);
      if (payload) {
        this.held.delete(this.next);
        this.recent[this.recentPos] = this.next;
        this.recentPos = (this.recentPos + 1) & 31;
        this.deliver(payload);
        this.next = (this.next + 1) & 0xffff;
        continue;
      }
      if (this.held.size === 0) return;
      if (!all && this.held.size < WINDOW) return;
      // The missing packet is not coming: its time passes as silence.
      this.stats.lost++;
      this.onPcm(new Int16Array(this.lastSamples));
      this.next = (this.next + 1) & 0xffff;
    }
  }

  private deliver(payload: Uint8Array): void {
    let pcm: Int16Array;
    switch (this.codec) {
      case 'ulaw':
        pcm = decodeUlaw(payload);
        break;
      case 'alaw':
        pcm = decodeAlaw(payload);
        break;
      default: {
        // slin16 on the wire is big-endian (network order)
        const n = payload.length >> 1;
        pcm = new Int16Array(n);
        for (let i = 0; i < n; i++) pcm[i] = ((payload[2 * i]! << 24) >> 16) | payload[2 * i + 1]!;
      }
    }
    this.lastSamples = pcm.length;
    this.onPcm(pcm);
  }
}
