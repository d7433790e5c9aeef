import { createSocket } from 'node:dgram';
import { buildRtp, parseRtp, RtpStream, RtpReceiver, encodeUlaw } from '../../src/media';

const pkt = (sequence: number, value: number, ssrc = 1) =>
  parseRtp(buildRtp({ payloadType: 0, sequence, timestamp: sequence * 160, ssrc, payload: encodeUlaw(new Int16Array(160).fill(value)) }));

test('parse: header fields, CSRCs, header extension and padding', () => {
  const base = buildRtp({
    payloadType: 0,
    sequence: 65535,
    timestamp: 4294967295,
    ssrc: 0xdeadbeef,
    payload: Uint8Array.of(1, 2, 3),
    marker: true,
  });
  expect(parseRtp(base)).toMatchObject({
    payloadType: 0,
    marker: true,
    sequence: 65535,
    timestamp: 4294967295,
    ssrc: 0xdeadbeef,
    payload: Uint8Array.of(1, 2, 3),
  });
  // 2 CSRCs + a one-word extension + 2 bytes of padding
  const b = Buffer.concat([
    Buffer.from([0xb2, 118, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
    Buffer.alloc(8),
    Buffer.from([0xbe, 0xde, 0, 1, 9, 9, 9, 9]),
    Buffer.from([7, 8]),
    Buffer.from([0, 2]),
  ]);
  expect(parseRtp(b)).toMatchObject({ payloadType: 118, sequence: 1, payload: Uint8Array.of(7, 8) });
});

test('parse: malformed packets are named, never thrown', () => {
  expect(parseRtp(Uint8Array.of(0x80, 0))).toBe('short');
  expect(parseRtp(Buffer.alloc(20, 0x40))).toBe('version');
  expect(parseRtp(Buffer.concat([Buffer.from([0x8f]), Buffer.alloc(20)]))).toBe('csrc-overflow');
  expect(parseRtp(Buffer.concat([Buffer.from([0x90, 0]), Buffer.alloc(10), Buffer.from([0, 0, 0xff, 0xff])]))).toBe('extension-overflow');
  expect(parseRtp(Buffer.concat([Buffer.from([0xa0, 0]), Buffer.alloc(10), Buffer.from([1, 2, 50])]))).toBe('padding');
  expect(parseRtp(Buffer.concat([Buffer.from([0x80, 0]), Buffer.alloc(10)]))).toBe('empty');
});

describe('stream: order, duplicates, loss, wrap, SSRC change', () => {
  const collect = () => {
    const frames: number[] = [];
    const s = new RtpStream('ulaw', (pcm) => frames.push(pcm[0]!));
    return { s, frames };
  };

  test('reordered packets come out in order; a duplicate is dropped', () => {
    const { s, frames } = collect();
    for (const q of [10, 12, 11, 11, 13, 14, 15, 16]) s.push(pkt(q, q * 100) as never);
    s.flush();
    expect(frames.map((v) => Math.round(v / 100))).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(s.stats).toMatchObject({ duplicates: 1, lost: 0 });
  });

  test('a lost packet becomes 20 ms of silence, so audio time stays true', () => {
    const { s, frames } = collect();
    for (const q of [1, 2, 4, 5, 6, 7, 8]) s.push(pkt(q, 1000) as never);
    s.flush();
    expect(frames.length).toBe(8);
    expect(frames[2]).toBe(0);
    expect(s.stats.lost).toBe(1);
  });

  test('sequence numbers wrap at 65535; a new SSRC starts a new numbering', () => {
    const { s, frames } = collect();
    for (const q of [65534, 65535, 0, 1]) s.push(pkt(q, 500) as never);
    for (const q of [9000, 9001]) s.push(pkt(q, 500, 2) as never);
    s.flush();
    expect(frames.length).toBe(6);
    expect(s.stats).toMatchObject({ lost: 0, ssrcChanges: 1 });
  });

  test('slin16 arrives big-endian', () => {
    const out: number[] = [];
    const s = new RtpStream('slin16', (pcm) => out.push(...pcm));
    s.push(
      parseRtp(buildRtp({ payloadType: 118, sequence: 1, timestamp: 0, ssrc: 1, payload: Uint8Array.of(0x12, 0x34, 0xff, 0xfe) })) as never,
    );
    s.flush();
    expect(out).toEqual([0x1234, -2]);
  });
});

test('receiver: 100k random and malformed datagrams do not crash it or disturb a registered stream', async () => {
  const rx = new RtpReceiver();
  const { port } = await rx.listen('127.0.0.1', 0);
  const good = createSocket('udp4');
  await new Promise<void>((r) => good.bind(0, '127.0.0.1', r));
  const frames: Int16Array[] = [];
  rx.register(`127.0.0.1:${good.address().port}`, 'ulaw', (pcm) => frames.push(pcm));
  const fuzz = createSocket('udp4');
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const sendFuzz = (n: number) => {
    for (let i = 0; i < n; i++) {
      const len = Math.floor(rand() * 300);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
      // half of them look like RTP v2 headers with nonsense inside
      if (len > 0 && rand() < 0.5) b[0] = 0x80 | (b[0]! & 0x3f);
      fuzz.send(b, port, '127.0.0.1');
    }
  };
  // Paced by the receiver itself: each burst of 100 is sent once the previous one has been counted, so the
  // kernel's socket buffer never overflows, however busy the machine is (a flood that outruns the buffer
  // drops datagrams before any code of ours sees them: that is UDP, not the receiver).
  let sent = 0;
  const counted = async (n: number) => {
    const end = Date.now() + 5000;
    while (rx.stats.datagrams < n && Date.now() < end) await new Promise((r) => setImmediate(r));
  };
  for (let round = 0; round < 100; round++) {
    good.send(
      buildRtp({ payloadType: 0, sequence: round, timestamp: round * 160, ssrc: 7, payload: encodeUlaw(new Int16Array(160).fill(3000)) }),
      port,
      '127.0.0.1',
    );
    sent++;
    for (let burst = 0; burst < 10; burst++) {
      sendFuzz(100);
      sent += 100;
      await counted(sent);
    }
  }
  await counted(sent);
  rx.unregister(`127.0.0.1:${good.address().port}`);
  expect(rx.stats.datagrams).toBe(100_100);
  expect(frames.length).toBe(100);
  expect(frames.filter((f) => Math.abs(f[0]! - 3000) < 200).length).toBe(100);
  expect(rx.stats.malformed + rx.stats.unknownSource).toBeGreaterThan(90_000);
  fuzz.close();
  good.close();
  rx.close();
}, 30_000);
