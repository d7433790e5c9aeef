// Places one *123 call into the sandbox with sipp, then reads the running companion's log for the call's
// outcome and checks its recording. Used by scripts/demo.sh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../src/media';
import { waitForClosedWav } from '../src/recordings';
import { runSipp } from './lib/sipp-caller';

async function main(): Promise<number> {
  const [logFile, chroot, dial = '*1234175551234', talk = '8000'] = process.argv.slice(2);
  if (!logFile || !chroot) {
    process.stderr.write('usage: node dist/scripts/demo-call.js <companion log> <sandbox chroot> [*123NUMBER] [talk ms]\n');
    return 2;
  }
  process.stdout.write(`calling ${dial} from 2125550100 with sipp (talk ${Number(talk) / 1000} s)...\n`);
  const r = await runSipp({ dial, talkMs: Number(talk), localPort: 5090 });
  if (r.successful !== 1) {
    process.stderr.write(`the call failed: ${JSON.stringify(r)}\n`);
    return 1;
  }
  const dnis = dial.slice(4);
  let ended: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && !ended; i++) {
    ended = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .reverse()
      .find((l) => l.msg === 'call ended' && l.dnis === dnis);
    if (!ended) await new Promise((res) => setTimeout(res, 200));
  }
  if (!ended) {
    process.stderr.write(`the companion logged no 'call ended' for ${dnis}: see ${logFile}\n`);
    return 1;
  }
  const asteriskPath = String(ended.recording);
  const local = join(chroot, asteriskPath);
  await waitForClosedWav(local);
  const wav = parseWav(readFileSync(local));
  const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const cpa = lines.filter((l) => l.msg === 'CPA event' && l.uniqueid === ended!.uniqueid).map((l) => `${String(l.cpa)}@${String(l.at_ms)}ms`);
  let catalogued: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && !catalogued; i++) {
    catalogued = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'recording catalogued' && l.uniqueid === ended!.uniqueid);
    if (!catalogued) await new Promise((res) => setTimeout(res, 200));
  }
  process.stdout.write(
    `call ${String(ended.uniqueid)} ended (${String(ended.cause)})\n` +
      `CPA heard: ${cpa.join(', ') || '(nothing)'}\n` +
      `catalogued as ${catalogued ? String(catalogued.recording) : '(not yet)'}: node dist/src/cli.js recordings show ${catalogued ? String(catalogued.recording) : 'ID'}\n` +
      `recording: ${local}\n` +
      `           ${(wav.samples.length / wav.sampleRate).toFixed(1)} s, ${wav.sampleRate} Hz (Asterisk wrote ${asteriskPath})\n`,
  );
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
