// npm run bench:cpa-ws -- [sessions] [seconds]
// N concurrent sessions on a `cpa serve` process (loopback), each streaming its call at real-time pace
// (20 ms frames of PCM16LE every 20 ms): every decision must arrive; the added latency is the time from
// sending the frame that held the deciding sample to receiving its result. Prints p50/p99/max and the
// server's CPU. Bounded: every session ends after `seconds` of audio.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteCpaSession, setCpaParams } from '../../src/cpa-server/client';
import { Signal } from '../lib/signals';
import { cpuSeconds } from '../lib/proc-cpu';

const sessions = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 10);
const FRAME = 160;

function call(kind: number): Int16Array {
  const s = new Signal(8000).silence(300 + 97 * (kind % 7));
  if (kind % 3 === 0)
    s.speech(700).silence(4000); // a person: hello, then waits
  else if (kind % 3 === 1)
    s.speech(5000).silence(400).tone(500, [1000], -18).silence(2000); // machine + beep
  else s.tone(3300, [2100], -15); // fax
  const pad = seconds * 1000 - s.ms;
  if (pad > 0) s.silence(pad);
  return s
    .noise(-55)
    .pcm()
    .subarray(0, seconds * 8000);
}

const pct = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-cpa-ws-'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      log: { level: 'warn' },
      recordings: { catalogFile: join(dir, 'catalog.sqlite') },
      cpa: { server: { maxSessions: sessions + 10, maxSessionsPerTenant: sessions + 10 } },
    }),
  );
  const cli = join(__dirname, '..', '..', 'src', 'cli.js');
  const child = spawn('node', [cli, 'cpa', 'serve', '--port', '0', '--config', join(dir, 'config.json')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()));
    child.once('exit', (c) => reject(new Error(`cpa serve exited ${c}`)));
  });
  try {
    await setCpaParams(url, 'bench', 'ws', { total_timeout: Math.max(10_000, seconds * 1000) });
    const audio = Array.from({ length: 21 }, (_, k) => call(k));
    const opened = await Promise.all(
      Array.from({ length: sessions }, (_, i) =>
        RemoteCpaSession.open({ url, tenant: 'bench', config: 'ws', callUuid: `b${i}`, timeoutMs: 20_000 }),
      ),
    );
    const sentAt = opened.map(() => [] as number[]);
    const latencies: number[] = [];
    let decisions = 0;
    opened.forEach((s, i) =>
      s.on('result', (r: { decision?: boolean; at_ms: number }) => {
        if (!r.decision) return;
        decisions++;
        const frame = Math.max(0, Math.ceil((r.at_ms * 8) / FRAME) - 1);
        const t = sentAt[i]![frame];
        if (t !== undefined) latencies.push(performance.now() - t);
      }),
    );
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    const frames = (seconds * 8000) / FRAME;
    // One timer drives every session: frame k of each goes out at t0 + 20k ms (sessions staggered by 1/N).
    for (let k = 0; k < frames; k++) {
      const due = t0 + k * 20;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let i = 0; i < opened.length; i++) {
        const pcm = audio[i % audio.length]!.subarray(k * FRAME, (k + 1) * FRAME);
        sentAt[i]![k] = performance.now();
        opened[i]!.push(pcm);
      }
    }
    for (const s of opened) s.stop();
    await Promise.all(opened.map((s) => s.closed(10_000)));
    const wall = (performance.now() - t0) / 1000;
    const cpu = ((cpuSeconds(child.pid!) - cpu0) / wall) * 100;
    console.log(
      `bench:cpa-ws  ${sessions} sessions x ${seconds} s of audio at real-time pace (20 ms frames), server: cpa serve on loopback`,
    );
    console.log(`  decisions: ${decisions} of ${sessions}`);
    console.log(
      `  added latency, deciding frame sent -> result received: p50 ${pct(latencies, 0.5).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    console.log(`  server CPU: ${cpu.toFixed(0)} % of one core over ${wall.toFixed(1)} s`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
