// npm run bench:transport -- [recordings] [concurrency]
// 1) Converting 1 hour of 8 kHz mu-law to mp3 with the ffmpeg the service resolves.
// 2) N recordings (10 s each) catalogued and delivered to a local webhook receiver: throughput, and the
//    time from registration to delivery (p50 / p95).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log';
import { encodeUlaw, encodeWav } from '../../src/media';
import { Catalog, registerRecording } from '../../src/recordings';
import { OutboxWorker, convert, resolveFfmpeg, webhookHandler } from '../../src/transport';
import { Signal } from '../lib/signals';

const n = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 4);
const pct = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(q * a.length) - 1)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-bench-transport-'));
  const ff = resolveFfmpeg();
  console.log(`bench:transport  ffmpeg: ${ff.path} (${ff.from})`);

  // 1 h of mu-law: a 60 s call-like stretch repeated
  const minute = encodeUlaw(new Signal().silence(500).speech(20000).silence(4000).speech(30000).silence(5500).noise(-50).pcm());
  const hour = Buffer.concat(Array.from({ length: 60 }, () => minute));
  const ul = join(dir, 'hour.ul');
  writeFileSync(ul, hour);
  const t0 = process.hrtime.bigint();
  const mp3 = await convert(ul, 'mp3', { ffmpeg: ff.path, timeoutMs: 600_000 });
  const convSec = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `  1 h of 8 kHz mu-law (${(hour.length / 1e6).toFixed(1)} MB) -> mp3 (${(statSync(mp3.path).size / 1e6).toFixed(1)} MB): ${convSec.toFixed(1)} s (${(3600 / convSec).toFixed(0)}x real time)`,
  );
  mp3.cleanup();

  // N deliveries to a local webhook
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
  const log = createLogger('silent');
  mkdirSync(join(dir, 'rec'));
  const wav = encodeWav(new Signal().speech(8000).silence(2000).noise(-50).pcm(), 8000);
  const worker = new OutboxWorker({
    catalog,
    root: dir,
    handlers: { webhook: webhookHandler({ secret: 'bench-secret-0123456789' }) },
    format: 'mp3',
    log,
    pollMs: 20,
    concurrency,
    ffmpeg: ff.path,
  });
  worker.start();
  const w0 = Date.now();
  for (let i = 0; i < n; i++) {
    const file = join(dir, 'rec', `r${i}.wav`);
    writeFileSync(file, wav);
    await registerRecording(
      {
        catalog,
        root: dir,
        asteriskDir: '/var/spool/asterisk/monitor',
        routes: [{ name: 'crm', kind: 'webhook', target: url }],
        log,
        onRegistered: () => worker.kick(),
      },
      { uniqueid: `b${i}`, ani: '2125550100', dnis: '4175551234', file, source: 'upload', complete: { durationMs: 10000, format: 'wav' } },
    );
  }
  while ((await catalog.counts()).delivered < n) await new Promise((r) => setTimeout(r, 50));
  const wall = (Date.now() - w0) / 1000;
  await worker.stop();
  const lat = (await catalog.listDeliveries('delivered', n)).map((d) => Date.parse(d.deliveredAt!) - Date.parse(d.createdAt));
  console.log(
    `  ${n} recordings of 10 s -> mp3 -> webhook, ${concurrency} at a time: ${wall.toFixed(1)} s, ${(n / wall).toFixed(1)} deliveries/s (receiver saw ${received})`,
  );
  console.log(
    `  registration -> delivered: p50 ${pct(lat, 0.5)} ms, p95 ${pct(lat, 0.95)} ms (registrations arrive as fast as they can be written)`,
  );
  await catalog.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
