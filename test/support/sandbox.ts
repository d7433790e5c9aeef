import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ariGet } from '../../scripts/lib/sandbox-ari';
export { ariGet, ARI_URL } from '../../scripts/lib/sandbox-ari';

const run = promisify(execFile);
export const REPO = join(__dirname, '..', '..');
const SCRIPT = join(REPO, 'scripts', 'sandbox.sh');

export async function sandbox(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, ...args], { timeout: 600_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** Starts the sandbox Asterisk (building the chroot the first time). Integration tests need root. */
export async function ensureSandbox(): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('integration tests need root (the sandbox Asterisk runs in a chroot)');
  await sandbox('start');
  return (await sandbox('path')).trim();
}

export async function ariLeftovers(): Promise<{ channels: string[]; bridges: string[] }> {
  const channels = await ariGet<{ id: string; name: string }[]>('/channels');
  const bridges = await ariGet<{ id: string }[]>('/bridges');
  return { channels: channels.map((c) => `${c.id} ${c.name}`), bridges: bridges.map((b) => b.id) };
}

export { waitFor } from '../../scripts/lib/wait';
import { waitFor } from '../../scripts/lib/wait';

/** Hangups are asynchronous in Asterisk: give teardown a moment, then demand an empty switch. */
export async function expectNoLeftovers(timeoutMs = 15_000): Promise<void> {
  const left = await waitFor(
    'no channels or bridges left',
    async () => {
      const l = await ariLeftovers();
      return l.channels.length === 0 && l.bridges.length === 0 ? l : undefined;
    },
    timeoutMs,
  ).catch(async () => ariLeftovers());
  expect(left).toEqual({ channels: [], bridges: [] });
}
