// npm run bench:cpa -- [sessions] [seconds]
// How many times faster than real time one core analyses audio with many concurrent sessions, on a
// realistic mix (live greetings, machine greetings with beeps, fax, SIT, noise), and memory per session.
import { CpaSession } from '../../src/cpa';
import { Signal } from '../lib/signals';

const sessions = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 12);

function call(kind: number, rate: number): Int16Array {
  const s = new Signal(rate).silence(200 + 150 * kind);
  switch (kind % 5) {
    case 0: // live: hello, pause, hello, silence
      s.speech(700).silence(1500).speech(600);
      break;
    case 1: // machine: greeting, beep
      s.speech(6000).silence(400).tone(500, [1000], -18);
      break;
    case 2: // fax
      s.tone(3300, [2100], -15).silence(75).tone(1000, [1650], -18);
      break;
    case 3: // SIT + intercept
      s.tone(274, [914], -18).tone(274, [1371], -18).tone(380, [1777], -18).silence(100).speech(4000);
      break;
    default: // silence
      break;
  }
  const pad = seconds * 1000 - s.ms;
  if (pad > 0) s.silence(pad);
  return s.noise(-55).pcm();
}

const audio = Array.from({ length: 10 }, (_, k) => call(k, 8000));
const frame = 160;
const frames = Math.floor((seconds * 8000) / frame);

const gc = (globalThis as { gc?: () => void }).gc;
// Typed arrays live outside the JS heap: count both.
const used = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const params = { total_timeout: Math.max(10000, seconds * 1000) };

/** One round: `sessions` sessions fed round-robin, 20 ms frames; returns CPU seconds. */
function round(): { cpuSec: number; events: number } {
  const list = Array.from({ length: sessions }, () => new CpaSession(params));
  const t0 = process.cpuUsage();
  let events = 0;
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < sessions; i++) events += list[i]!.push(audio[i % audio.length]!.subarray(f * frame, f * frame + frame)).length;
  }
  for (const s of list) events += s.end().length;
  const cpu = process.cpuUsage(t0);
  return { cpuSec: (cpu.user + cpu.system) / 1e6, events };
}

round(); // warm-up: let the JIT settle
const rounds = [round(), round(), round()].sort((a, b) => a.cpuSec - b.cpuSec);
const median = rounds[1]!;
const audioSec = sessions * seconds;

// Memory: sessions that have seen audio (all buffers allocated), measured after GC.
const before = used();
const held = Array.from({ length: 2000 }, () => new CpaSession(params));
for (const s of held) s.push(audio[1]!.subarray(0, 8000));
const perSession = (used() - before) / held.length;

console.log(`bench:cpa  ${sessions} concurrent sessions x ${seconds} s of 8 kHz audio in 20 ms frames (${median.events} events per round)`);
console.log(`  CPU per round (3 rounds after a warm-up): ${rounds.map((r) => r.cpuSec.toFixed(2)).join(' / ')} s`);
console.log(
  `  speed: ${(audioSec / median.cpuSec).toFixed(0)}x real time on one core (median round; best ${(audioSec / rounds[0]!.cpuSec).toFixed(0)}x)`,
);
console.log(
  `  memory: ${gc ? `${(perSession / 1024).toFixed(1)} KB per session (JS heap + typed arrays, 2000 sessions, after GC)` : 'run with node --expose-gc for memory per session'}`,
);
if (held.length < 0) console.log(held); // keep `held` alive until measured
