// E-mail delivery against a real SMTP server that refuses: 5xx is permanent (dead letter at once, with the
// server's reason), 4xx is temporary (retried until accepted).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Catalog, registerRecording } from '../../src/recordings';
import { OutboxWorker, emailHandler } from '../../src/transport';
import { createLogger } from '../../src/log';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { waitFor } from '../support/sandbox';
import { catalogLocation } from '../support/pg';

test('550 for one mailbox: dead at once with the reason; 451 twice for another: retried, then delivered', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dc-smtp-'));
  let busyRefusals = 0;
  const accepted: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address === 'gone@example.test') return cb(Object.assign(new Error('5.1.1 mailbox unknown'), { responseCode: 550 }));
      if (address.address === 'busy@example.test' && busyRefusals < 2) {
        busyRefusals++;
        return cb(Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 }));
      }
      cb();
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        accepted.push(...session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  const catalog = await Catalog.open(await catalogLocation(root));
  const worker = new OutboxWorker({
    catalog,
    root,
    handlers: {
      email: emailHandler({
        smtp: { host: '127.0.0.1', port, security: 'none', from: 'pbx@example.test' },
        maxAttachmentBytes: 18 << 20,
        link: () => 'http://127.0.0.1/x',
      }),
    },
    format: 'mp3',
    log: createLogger('silent'),
    pollMs: 50,
    baseBackoffMs: 100,
    maxBackoffMs: 300,
    workDir: join(root, 'work'),
  });
  try {
    mkdirSync(join(root, 'calls'));
    const file = join(root, 'calls', 'a.wav');
    writeFileSync(file, encodeWav(new Signal().speech(2000).noise(-50).pcm(), 8000));
    const routes = [
      { name: 'gone', kind: 'email' as const, target: 'gone@example.test' },
      { name: 'busy', kind: 'email' as const, target: 'busy@example.test' },
    ];
    const rec = await registerRecording(
      { catalog, root, asteriskDir: '/var/spool/asterisk/monitor', routes, log: createLogger('silent') },
      { uniqueid: 'm1', ani: '2125550100', dnis: '4175551234', file, source: 'upload', complete: { durationMs: 2000, format: 'wav' } },
    );
    worker.start();
    await waitFor(
      'both settled',
      async () => (await catalog.deliveriesOf(rec.id)).every((d) => d.status === 'dead' || d.status === 'delivered'),
      20_000,
      50,
    );
    const [gone, busy] = await catalog.deliveriesOf(rec.id);
    expect(gone).toMatchObject({ route: 'gone', status: 'dead', attempts: 1 });
    expect(gone!.lastError).toMatch(/SMTP 550.*mailbox unknown/);
    expect(busy).toMatchObject({ route: 'busy', status: 'delivered', attempts: 3 });
    expect((await catalog.attemptsOf(busy!.id)).map((a) => [a.outcome, a.error?.match(/SMTP \d+/)?.[0] ?? null])).toEqual([
      ['retry', 'SMTP 451'],
      ['retry', 'SMTP 451'],
      ['delivered', null],
    ]);
    expect(accepted).toEqual(['busy@example.test']);
  } finally {
    await worker.stop();
    await catalog.close();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  }
}, 60_000);
