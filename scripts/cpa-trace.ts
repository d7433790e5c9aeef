// Prints the CPA engine's per-frame view of a file (energy, noise floor, tone purity, verdicts) between
// two times: for understanding a wrong decision.  node dist/scripts/cpa-trace.js FILE [fromMs] [toMs]
import { CpaSession } from '../src/cpa';
import { readAudioFile } from '../src/media';

const [file, from = '0', to = '1e9', params = '{}'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/scripts/cpa-trace.js FILE [fromMs] [toMs] [paramsJSON]\n');
  process.exit(2);
}
const pcm = readAudioFile(file);
const s = new CpaSession(JSON.parse(params) as Record<string, unknown>, pcm.sampleRate);
s.trace = (t) => {
  if (t.ms < Number(from) || t.ms > Number(to)) return;
  process.stdout.write(
    `${String(Math.round(t.ms)).padStart(6)} band ${t.bandDb.toFixed(1).padStart(6)} floor ${t.floorDb.toFixed(1).padStart(6)} pur ${t.purity.toFixed(2)} ${String(Math.round(t.peakHz)).padStart(5)} Hz snr ${t.peakSnrDb.toFixed(1).padStart(5)} ${t.voiced ? 'V' : '.'}${t.tone ? 'T' : '.'}\n`,
  );
};
for (const e of [...s.push(pcm.samples), ...s.end()]) process.stdout.write(`EVENT ${JSON.stringify(e)}\n`);
