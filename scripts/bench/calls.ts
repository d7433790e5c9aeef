// npm run bench:calls -- [N,N,...] [--rate R] [--talk MS] [--loaded]
// For each N: N *123 calls (half to a live far end, half to a machine with a beep) at R new calls/s with
// MS of talk, through the sandbox Asterisk into a `serve` process: catalogued, delivered, tap delay,
// CPA results, leftovers, node and Asterisk CPU. Bounded: every call ends by itself (sipp's BYE).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runCallLoad } from '../lib/call-load';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ns = (args.find((a) => /^\d+(,\d+)*$/.test(a)) ?? '50,100,200,300').split(',').map(Number);
const rate = Number(flag('--rate', '10'));
const talkMs = Number(flag('--talk', '25000'));
const loaded = args.includes('--loaded');

async function main(): Promise<void> {
  const repo = join(__dirname, '..', '..', '..');
  execFileSync('bash', [join(repo, 'scripts/sandbox.sh'), 'start'], { stdio: 'inherit' });
  const chroot = execFileSync('bash', [join(repo, 'scripts/sandbox.sh'), 'path'])
    .toString()
    .trim();
  console.log(`bench:calls  ${rate} calls/s, ${talkMs} ms talk${loaded ? ', with a CPU-heavy process beside' : ''}`);
  console.log(
    'calls | sipp ok | catalogued | dup | delivered | tapped | tap lag p50/p99 ms | CPA live | CPA machine | left ch/br | alive | node CPU | Asterisk CPU',
  );
  for (const n of ns) {
    const r = await runCallLoad({ calls: n, rate, talkMs, chroot, loaded });
    const ok = r.sipp.reduce((a, s) => a + s.successful, 0);
    const fmt = (m: Record<string, number>) =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    console.log(
      `${n} | ${ok} | ${r.catalogued} | ${r.duplicates} | ${r.delivered} | ${r.tapped} | ${r.tapLagP50 ?? '-'} / ${r.tapLagP99 ?? '-'} | ${fmt(r.cpa.live)} | ${fmt(r.cpa.machine)} | ${r.leftovers.channels}/${r.leftovers.bridges} | ${r.serviceAlive ? 'yes' : 'NO'} | ${r.nodeCpuPct} % | ${r.asteriskCpuPct} %`,
    );
    for (const w of r.wrong)
      console.log(
        `    wrong: ${w.uniqueid} expected ${w.expected}, got ${w.result} (${w.cause}), tap lag ${w.tapLagMs ?? '-'} ms, rtp ${JSON.stringify(w.rtp)}`,
      );
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
