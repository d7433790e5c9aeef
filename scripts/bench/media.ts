// npm run bench:media -- [seconds] [N,N,...] [--cpa]
// A separate process sends N concurrent 20 ms G.711 RTP streams (50 packets/s each) over loopback to one
// RtpReceiver; reports packets lost and the receiver's CPU for each N, and the largest N with 0 loss.
// --cpa also runs every stream through its own CPA session, as live calls do.
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { CpaSession } from '../../src/cpa';
import { RtpReceiver, buildRtp, encodeUlaw } from '../../src/media';

const FRAME = 160;

async function sender(): Promise<void> {
  // child: argv = [target port, streams, seconds]
  const [port, n, seconds] = process.argv.slice(3).map(Number) as [number, number, number];
  const socks = await Promise.all(
    Array.from({ length: n }, () => {
      const s = createSocket('udp4');
      return new Promise<ReturnType<typeof createSocket>>((r) => s.bind(0, '127.0.0.1', () => r(s)));
    }),
  );
  process.send!({ ports: socks.map((s) => s.address().port) });
  await new Promise<void>((r) => process.once('message', () => r()));
  // A quiet "hello" then silence, as a callee sends: realistic payload sizes and values.
  const audio = encodeUlaw(
    Int16Array.from({ length: FRAME * 50 }, (_, i) =>
      i < 4000 ? Math.round(3000 * Math.sin(i / 3) * Math.sin(i / 700)) : Math.round(Math.random() * 20 - 10),
    ),
  );
  const packets = Math.round((seconds * 1000) / 20);
  const t0 = Date.now();
  let sent = 0;
  for (let k = 0; k < packets; k++) {
    for (let i = 0; i < n; i++) {
      const payload = audio.subarray(((k + i) % 50) * FRAME, ((k + i) % 50) * FRAME + FRAME);
      socks[i]!.send(buildRtp({ payloadType: 0, sequence: k, timestamp: k * FRAME, ssrc: i + 1, payload }), port, '127.0.0.1');
      sent++;
    }
    // pace on the wall clock: packet k of every stream leaves at t0 + 20 k ms
    const wait = t0 + (k + 1) * 20 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await new Promise((r) => setTimeout(r, 200));
  process.send!({ sent });
  for (const s of socks) s.close();
}

async function run(
  n: number,
  seconds: number,
  cpa: boolean,
): Promise<{ n: number; sent: number; received: number; lost: number; cpuPct: number }> {
  const rx = new RtpReceiver();
  const { port } = await rx.listen('127.0.0.1', 0);
  const child = fork(__filename, ['--sender', String(port), String(n), String(seconds)]);
  const ports = await new Promise<number[]>((r) => child.once('message', (m: { ports: number[] }) => r(m.ports)));
  const streams = ports.map((p) => {
    const session = cpa ? new CpaSession({ total_timeout: 600000 }) : undefined;
    return rx.register(`127.0.0.1:${p}`, 'ulaw', session ? (pcm) => void session.push(pcm) : () => undefined);
  });
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  child.send('go');
  const { sent } = await new Promise<{ sent: number }>((r) =>
    child.on('message', (m: { sent?: number }) => m.sent !== undefined && r(m as { sent: number })),
  );
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const received = streams.reduce((s, st) => s + st.stats.packets, 0);
  rx.close();
  child.kill();
  return { n, sent, received, lost: sent - received, cpuPct: (100 * (cpu.user + cpu.system)) / 1e6 / wall };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const cpa = process.argv.includes('--cpa');
  const seconds = Number(args[0] ?? 10);
  const ns = (args[1] ?? '250,500,1000,1500,2000').split(',').map(Number);
  console.log(
    `bench:media  ${seconds} s per run, 20 ms ulaw packets over loopback from a separate process${cpa ? ', each stream through a CPA session' : ''}`,
  );
  let best = 0;
  for (const n of ns) {
    const r = await run(n, seconds, cpa);
    console.log(
      `  ${String(n).padStart(5)} streams: sent ${r.sent}, received ${r.received}, lost ${r.lost} (${((100 * r.lost) / r.sent).toFixed(3)} %), receiver CPU ${r.cpuPct.toFixed(0)} % of one core`,
    );
    if (r.lost === 0) best = Math.max(best, n);
  }
  console.log(`  largest N with 0 loss: ${best || 'none'}`);
}

if (process.argv[2] === '--sender') void sender();
else void main();
