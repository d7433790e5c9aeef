import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SANDBOX_ARI_PASSWORD } from '../../src/config';

const run = promisify(execFile);
export const REPO = join(__dirname, '..', '..');
const SCRIPT = join(REPO, 'scripts', 'sandbox.sh');
export const ARI_URL = 'http://127.0.0.1:8088';

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

/** ARI REST, independent of the service's own client: what the tests believe about Asterisk. */
export async function ariGet<T>(path: string): Promise<T> {
  const res = await fetch(`${ARI_URL}/ari${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`dialplan-companion:${SANDBOX_ARI_PASSWORD}`).toString('base64')}` },
  });
  if (!res.ok) throw new Error(`ARI GET ${path}: ${res.status}`);
  return (await res.json()) as T;
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
