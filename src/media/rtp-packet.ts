// RTP (RFC 3550) packet parsing without copying: the payload is a view into the datagram.

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

export type RtpParseError = 'short' | 'version' | 'csrc-overflow' | 'extension-overflow' | 'padding' | 'empty';

/** Parses one datagram; returns a reason string for anything that is not a usable RTP packet. */
export function parseRtp(buf: Uint8Array): RtpPacket | RtpParseError {
  if (buf.length < 12) return 'short';
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return 'version';
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (offset > buf.length) return 'csrc-overflow';
  if (extension) {
    if (offset + 4 > buf.length) return 'extension-overflow';
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + 4 * words;
    if (offset > buf.length) return 'extension-overflow';
  }
  let end = buf.length;
  if (padding) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || end - pad < offset) return 'padding';
    end -= pad;
  }
  if (end <= offset) return 'empty';
  const b1 = buf[1]!;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequence: (buf[2]! << 8) | buf[3]!,
    timestamp: ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0,
    ssrc: ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0,
    payload: buf.subarray(offset, end),
  };
}

/** Builds an RTP packet (for tests, benchmarks and sending audio). */
export function buildRtp(p: {
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
  marker?: boolean;
}): Buffer {
  const out = Buffer.alloc(12 + p.payload.length);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  out.writeUInt16BE(p.sequence & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  out.set(p.payload, 12);
  return out;
}
