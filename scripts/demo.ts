// The first five minutes (run by scripts/demo.sh once the sandbox Asterisk is up): a fresh catalog with a
// one-time admin login, a local webhook receiver and SMTP catcher, the companion running against the sandbox,
// two *123 calls (a person, and an answering machine with a beep), both delivered; then it prints what
// arrived and where the portal is, and keeps running until Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSipp } from './lib/sipp-caller';
import { SmtpSink, WebhookReceiver } from './lib/receivers';
import { waitFor } from './lib/wait';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'src', 'cli.js');
const say = (s: string) => process.stdout.write(`demo: ${s}\n`);
/** Set once the companion runs: stops it and the receivers, then exits with the code. */
let shutdown = (code: number): void => process.exit(code);

const CALLS = [
  { who: 'a person', dial: '*1234175551234', talkMs: 7000, localPort: 5091 },
  // The fake PSTN's machine: an 8 s greeting, then the beep; the companion plays the voicemail drop and hangs up.
  { who: 'an answering machine', dial: '*1234175552000', talkMs: 30_000, localPort: 5092 },
];

function kb(n: number): string {
  return `${(n / 1000).toFixed(1)} kB`;
}

async function main(): Promise<number> {
  const [chroot] = process.argv.slice(2);
  if (!chroot) {
    process.stderr.write('usage: node dist/scripts/demo.js <sandbox chroot>   (bash scripts/demo.sh does it all)\n');
    return 2;
  }
  const dir = process.env.DC_DEMO_DIR ?? '/var/tmp/dialplan-companion-demo';
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['webhook', 'mail']) mkdirSync(join(dir, d), { recursive: true });
  const webhookSecret = randomBytes(24).toString('base64url');
  const hook = new WebhookReceiver(webhookSecret);
  const smtp = new SmtpSink();
  await Promise.all([hook.listen(), smtp.listen()]);

  const password = randomBytes(9).toString('base64url');
  const env = {
    ...process.env,
    DC_CATALOG_FILE: join(dir, 'catalog.sqlite'),
    DC_RECORDINGS_LOCAL_DIR: join(chroot, 'var', 'spool', 'asterisk', 'monitor'),
    // The sandbox's spool holds the tests' recordings too: this demo's catalog starts with its own calls only.
    DC_RECOVER_FILES: 'false',
    DC_WEBHOOK_URL: hook.url,
    DC_WEBHOOK_SECRET: webhookSecret,
    DC_EMAIL_TO: 'recordings@demo.example',
    DC_SMTP_HOST: '127.0.0.1',
    DC_SMTP_PORT: String(smtp.port),
    DC_SMTP_SECURITY: 'none',
    // Show what CPA is for: after the machine's beep, the voicemail drop is played and the call ended.
    DC_CPA_ON_MACHINE: process.env.DC_CPA_ON_MACHINE ?? 'drop',
  };
  const add = spawnSync('node', [CLI, 'users', 'add', 'admin'], { input: `${password}\n`, env, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`users add admin: ${add.stderr}`);

  const logFile = join(dir, 'companion.log');
  writeFileSync(logFile, '');
  const out = openSync(logFile, 'a');
  // Its own process group: Ctrl-C reaches the demo, which stops the companion in order (signals forwarded once).
  const serve: ChildProcess = spawn('node', [CLI, 'serve'], { env, stdio: ['ignore', out, out], detached: true });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the companion and the receivers');
    if (serve.exitCode === null) {
      serve.kill('SIGINT');
      await waitFor('the companion to stop', () => serve.exitCode !== null || serve.signalCode !== null, 20_000, 100).catch(() =>
        serve.kill('SIGKILL'),
      );
    }
    await Promise.all([hook.close(), smtp.close()]);
    if (process.env.DC_DEMO_STOP_SANDBOX === '1') {
      spawnSync('bash', [join(REPO, 'scripts', 'sandbox.sh'), 'stop'], { stdio: 'inherit' });
    } else say('the sandbox Asterisk keeps running (bash scripts/sandbox.sh stop)');
    process.exit(code);
  };
  shutdown = (code) => void stop(code);
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  serve.on('exit', (c) => {
    if (!stopping) {
      process.stderr.write(`demo: the companion exited (${c}): see ${logFile}\n${readFileSync(logFile, 'utf8').slice(-3000)}\n`);
      void stop(1);
    }
  });
  const log = () => readFileSync(logFile, 'utf8');
  await waitFor('the companion to connect to the sandbox Asterisk', () => log().includes('ARI WebSocket connected'), 20_000);
  say(`companion running (pid ${serve.pid}, log ${logFile})`);

  say(`calling ${CALLS.map((c) => `${c.who} (${c.dial})`).join(' and ')} from 2125550100 with sipp ...`);
  const results = await Promise.all(CALLS.map((c) => runSipp({ dial: c.dial, talkMs: c.talkMs, localPort: c.localPort })));
  results.forEach((r, i) => {
    if (r.successful !== 1) throw new Error(`the call to ${CALLS[i]!.who} failed: ${r.errors || `sipp exit ${r.code}`}`);
  });
  await waitFor('both recordings at the webhook and in the mailbox', () => hook.delivered.size >= 2 && smtp.messages.length >= 2, 90_000);

  for (const c of CALLS) {
    const dnis = c.dial.slice(4);
    const h = [...hook.delivered.values()].find((x) => x.metadata.dnis === dnis);
    const m = smtp.messages.find((x) => x.subject?.includes(`DNIS:${dnis}`));
    if (!h || !m) throw new Error(`no delivery for ${dnis}`);
    const meta = h.metadata as { id: string; cpa: { events: { result: string; at_ms: number; cause?: string }[] }; duration_ms: number };
    writeFileSync(join(dir, 'webhook', `${meta.id}.mp3`), h.audio);
    writeFileSync(join(dir, 'webhook', `${meta.id}.json`), `${JSON.stringify(h.metadata, null, 2)}\n`);
    const att = m.attachments[0];
    if (att) writeFileSync(join(dir, 'mail', att.filename ?? `${meta.id}.mp3`), att.content);
    const cpa = meta.cpa.events.map((e) => `${e.result} at ${e.at_ms} ms${e.cause ? ` (${e.cause})` : ''}`).join(', ');
    say(`${c.who}, ${dnis}: ${(meta.duration_ms / 1000).toFixed(1)} s recorded as ${meta.id}; CPA heard: ${cpa || 'nothing'}`);
    const ended = log()
      .split('\n')
      .find((l) => l.includes('"msg":"call ended"') && l.includes(`"dnis":"${dnis}"`));
    if (ended) say(`    call ended: ${String((JSON.parse(ended) as { cause?: string }).cause)}`);
    say(`    webhook: ${h.status}, signature ${h.signatureValid ? 'valid' : 'INVALID'}, ${h.audioType} ${kb(h.audio.length)}`);
    say(
      `    e-mail: "${m.subject ?? ''}" to ${m.to ? [m.to].flat()[0]?.text : '?'}, ${att ? `${att.filename} ${kb(att.size)}` : 'no attachment'}`,
    );
  }
  say(`the receivers kept what arrived in ${join(dir, 'webhook')} and ${join(dir, 'mail')}`);
  const portal = `http://127.0.0.1:${process.env.DC_PORTAL_PORT ?? '8080'}`;
  say(`recordings portal: ${portal}/recordings`);
  say(`    login: admin   password: ${password}   (made for this run; the next demo makes a new one)`);
  say('Ctrl-C stops the companion and the receivers');
  return new Promise<number>(() => undefined); // until a signal
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    shutdown(1);
  },
);
