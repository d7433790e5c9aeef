import { createSocket, type Socket } from 'node:dgram';
import { parseRtp } from './rtp-packet';
import { RtpStream, type RtpCodec } from './rtp-stream';

export interface RtpReceiverStats {
  datagrams: number;
  malformed: number;
  /** Well-formed RTP from a source no call registered (late packets after teardown, strays). */
  unknownSource: number;
  streams: number;
}

/**
 * One UDP socket for every call's externalMedia stream. Asterisk sends each stream from its own RTP port
 * (the channel's UNICASTRTP_LOCAL_ADDRESS/PORT), so streams are told apart by source address and port.
 * Bad datagrams are counted and dropped; nothing a sender does can throw out of here.
 */
export class RtpReceiver {
  readonly stats: RtpReceiverStats = { datagrams: 0, malformed: 0, unknownSource: 0, streams: 0 };
  /** Packets lost by streams already unregistered (the live ones keep their own count). */
  private lostBefore = 0;

  /** Packets lost (sequence gaps filled) over every stream so far. */
  get lost(): number {
    let n = this.lostBefore;
    for (const s of this.streams.values()) n += s.stats.lost;
    return n;
  }
  private readonly streams = new Map<string, RtpStream>();
  private socket: Socket | undefined;

  async listen(host: string, port: number): Promise<{ address: string; port: number }> {
    const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    this.socket = sock;
    sock.on('message', (msg, rinfo) => this.onDatagram(msg, `${rinfo.address}:${rinfo.port}`));
    // A socket error (e.g. ICMP port unreachable echoes) must not end the process; the socket stays usable.
    sock.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const a = sock.address();
    return { address: a.address, port: a.port };
  }

  /** Route packets from `source` ("address:port") to a new stream decoding `codec` into `onPcm`. */
  register(source: string, codec: RtpCodec, onPcm: (pcm: Int16Array) => void): RtpStream {
    const s = new RtpStream(codec, onPcm);
    this.streams.set(source, s);
    this.stats.streams = this.streams.size;
    return s;
  }

  unregister(source: string): void {
    const s = this.streams.get(source);
    s?.flush();
    if (s) this.lostBefore += s.stats.lost;
    this.streams.delete(source);
    this.stats.streams = this.streams.size;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.streams.clear();
  }

  private onDatagram(msg: Buffer, source: string): void {
    this.stats.datagrams++;
    const p = parseRtp(msg);
    if (typeof p === 'string') {
      this.stats.malformed++;
      return;
    }
    const s = this.streams.get(source);
    if (!s) {
      this.stats.unknownSource++;
      return;
    }
    try {
      s.push(p);
    } catch {
      // A consumer bug must not take the socket down for every other call.
      this.stats.malformed++;
    }
  }
}
