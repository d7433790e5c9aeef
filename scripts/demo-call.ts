// Places one *123 call into the sandbox with sipp, then reads the running companion's log for the call's
// outcome and checks its recording. Used by scripts/demo.sh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../src/media';
import { waitForClosedWav } from '../src/recordings';
import { runSipp } from './lib/sipp-caller';

type LogLine = Record<string, unknown>;

/** Waits (up to 10 s) for the companion's log to hold a line that matches. */
async function logLine(logFile: string, match: (l: LogLine) => boolean): Promise<LogLine | undefined> {
  for (let i = 0; i < 50; i++) {
    const hit = readLog(logFile).reverse().find(match);
    if (hit) return hit;
    await new Promise((res) => setTimeout(res, 200));
  }
  return undefined;
}

function readLog(logFile: string): LogLine[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
}

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
  const ended = await logLine(logFile, (l) => l.msg === 'call ended' && l.dnis === dnis);
  if (!ended) {
    process.stderr.write(`the companion logged no 'call ended' for ${dnis}: see ${logFile}\n`);
    return 1;
  }
  const asteriskPath = String(ended.recording);
  const local = join(chroot, asteriskPath);
  await waitForClosedWav(local);
  const wav = parseWav(readFileSync(local));
  const cpa = readLog(logFile)
    .filter((l) => l.msg === 'CPA event' && l.uniqueid === ended.uniqueid)
    .map((l) => `${String(l.cpa)}@${String(l.at_ms)}ms`);
  const catalogued = await logLine(logFile, (l) => l.msg === 'recording catalogued' && l.uniqueid === ended.uniqueid);
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
