// The newcomer's first five minutes: scripts/demo.sh (setup skipped: the suite has done it) prints the portal's
// URL and a one-time login after two calls were delivered; in Debian's chromium that login shows both calls,
// each with what the CPA heard on its timeline; Ctrl-C stops it all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { ensureSandbox, REPO, waitFor } from '../support/sandbox';

const ARTIFACTS = join(REPO, 'test-artifacts');
let demo: ChildProcess | undefined;
let browser: Browser | undefined;
let out = '';
const dir = mkdtempSync(join(tmpdir(), 'dc-demo-test-'));

beforeAll(async () => {
  await ensureSandbox();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (demo?.exitCode === null) {
    process.kill(-demo.pid!, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

test('demo.sh: two delivered calls, a printed portal login that shows both with their CPA timelines; Ctrl-C stops it', async () => {
  demo = spawn('bash', [join(REPO, 'scripts', 'demo.sh')], {
    env: { ...process.env, DC_DEMO_SKIP_SETUP: '1', DC_DEMO_DIR: join(dir, 'demo') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  demo.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  demo.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await waitFor('the demo to print its login', () => out.includes('Ctrl-C stops'), 120_000, 250).catch((e: Error) => {
    throw new Error(`${e.message}\n${out}`);
  });
  // What it printed: both deliveries, and where to go
  expect(out).toMatch(/a person, 4175551234: .* CPA heard: LV at/);
  expect(out).toMatch(/an answering machine, 4175552000: .* CPA heard: AM at .*BP at/);
  expect(out.match(/webhook: 200, signature valid, audio\/mpeg/g)).toHaveLength(2);
  expect(out.match(/e-mail: "Recorded Message - ANI:2125550100, DNIS:/g)).toHaveLength(2);
  const url = /recordings portal: (http:\/\/\S+)/.exec(out)![1]!;
  const password = /login: admin {3}password: (\S+)/.exec(out)![1]!;

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/recordings/);
  expect(await page.locator('tbody tr').count()).toBe(2);
  await page.screenshot({ path: join(ARTIFACTS, 'demo-recordings.png'), fullPage: true });
  const timeline = async (dnis: string) => {
    await page.goto(url);
    await page.locator('tbody tr', { hasText: dnis }).locator('a').first().click();
    await page.waitForSelector('.timeline [data-result]');
    await page.screenshot({ path: join(ARTIFACTS, `demo-${dnis}.png`), fullPage: true });
    return page.locator('.timeline [data-result]').evaluateAll((els) => els.map((e) => e.getAttribute('data-result')));
  };
  expect(await timeline('4175551234')).toContain('LV');
  expect(await timeline('4175552000')).toEqual(expect.arrayContaining(['AM', 'BP']));

  // Ctrl-C (SIGINT to the foreground process group, as a terminal sends it)
  process.kill(-demo.pid!, 'SIGINT');
  const code = await waitFor('the demo to stop', () => (demo!.exitCode !== null ? { code: demo!.exitCode } : undefined), 25_000, 100);
  expect(code).toEqual({ code: 0 });
  await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
}, 240_000);
