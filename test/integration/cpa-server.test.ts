// The CPA engine as an iraCPA-compatible WebSocket service, with a real client on loopback: the protocol's
// requests and error codes, the same events as `cpa analyze` on the dev corpus, configurations shared
// through the catalog, and 10,000 malformed messages that change nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CpaServer } from '../../src/cpa-server/server';
import { RemoteCpaSession, setCpaParams, CpaRequestError } from '../../src/cpa-server/client';
import { cpaConfigStore } from '../../src/cpa-server/start';
import { engineEvent } from '../../src/cpa-server/protocol';
import { analyseFile } from '../../src/cpa/eval';
import { loadConfig } from '../../src/config';
import { Catalog } from '../../src/recordings';
import { createLogger } from '../../src/log';
import { readAudioFile } from '../../src/media';
import { remoteAnalyser } from '../../src/ari/tap/analysers';
import { resolveParams } from '../../src/cpa';
import { Signal } from '../../scripts/lib/signals';
import { catalogLocation } from '../support/pg';

const DEV = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'cpa-dev');
let dir: string;
let catalog: Catalog;
let location = '';
let server: CpaServer;
let url: string;

async function start(limits = {}): Promise<void> {
  const cfg = loadConfig({ env: { DC_CPA_CONFIGS: '{"fixed/one":{"maxtime":3000}}' } });
  server = new CpaServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    configs: cpaConfigStore(cfg, catalog),
    limits,
    voiceDir: join(dir, 'voice'),
  });
  url = (await server.listen()).url;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dc-cpa-server-'));
  location = await catalogLocation(dir);
  catalog = await Catalog.open(location);
  await start({ idleTimeoutMs: 2000, maxSessionsPerTenant: 2, breakGraceMs: 300 });
});
afterEach(async () => {
  await server.close();
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw client: sends each message in turn and collects every reply until the server closes or `ms` pass. */
async function exchange(messages: (string | Buffer)[], ms = 1000, replies_expected = Infinity): Promise<Record<string, unknown>[]> {
  const ws = new WebSocket(url);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const replies: Record<string, unknown>[] = [];
  let done: () => void = () => undefined;
  ws.on('message', (d) => {
    replies.push(JSON.parse(String(d)) as Record<string, unknown>);
    if (replies.length >= replies_expected) done();
  });
  for (const m of messages) ws.send(m);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    done = () => (clearTimeout(t), resolve());
    ws.once('close', done);
  });
  ws.terminate();
  return replies;
}

const j = (o: unknown) => JSON.stringify(o);

/** 4 s of silence on an open session (a person waiting: LV); every result the server sent. */
async function silentCall(s: RemoteCpaSession): Promise<Record<string, unknown>[]> {
  const got: Record<string, unknown>[] = [];
  s.on('result', (r: Record<string, unknown>) => got.push(r));
  s.push(new Int16Array(8000 * 4));
  s.stop();
  await s.closed();
  return got;
}
const pcmBytes = (samples: Int16Array) => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);

test('set_cpa_params: OK, 01 missing fields, 02 a bad value named, 05 another analysis; a file-defined name is not overwritten', async () => {
  const set = { request_name: 'set_cpa_params', tenant_id: 'acme', config_name: 'outbound', analysis: 'amd' };
  const r = await exchange([
    j({ ...set, amd_time_limit: 2000, break_events: 'LV,FX,AM', log_voice: false }),
    j({ request_name: 'set_cpa_params', tenant_id: 'acme', analysis: 'amd' }),
    j({ ...set, amd_time_limit: 99999 }),
    j({ ...set, nonsense_param: 1 }),
    j({ ...set, analysis: 'speech' }),
    j({ ...set, tenant_id: 'fixed', config_name: 'one' }),
  ]);
  expect(r.map((x) => x.result)).toEqual(['OK', '01', '02', '02', '05', '02']);
  expect(r[1]!.reason).toContain('config_name');
  expect(r[2]!.reason).toMatch(/amd_time_limit: must be between 1000 and 3000/);
  expect(r[3]!.reason).toMatch(/unknown parameter "nonsense_param"/);
  expect(r[5]!.reason).toMatch(/defined in the configuration file/);
  expect(await catalog.cpaConfigs.get('acme/outbound')).toEqual({
    params: { amd_time_limit: 2000, break_events: 'LV,FX,AM' },
    log_voice: false,
    log_rtp_history: false,
  });
});

test('a configuration saved through one instance is used by another sharing the catalog, and after a restart', async () => {
  await setCpaParams(url, 'acme', 'shared', { maxtime: 2000 });
  let second: Catalog | undefined;
  const other = new CpaServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    configs: cpaConfigStore(loadConfig({ env: {} }), (second = await Catalog.open(location))),
  });
  const otherUrl = (await other.listen()).url;
  try {
    const s = await RemoteCpaSession.open({ url: otherUrl, tenant: 'acme', config: 'shared', callUuid: 'call-1' });
    expect(s.callUuid).toBe('call-1');
    s.terminate();
  } finally {
    await other.close();
    await second?.close();
  }
  await server.close();
  await catalog.close();
  catalog = await Catalog.open(location);
  await start();
  const s = await RemoteCpaSession.open({ url, tenant: 'acme', config: 'shared' });
  expect(s.callUuid).toMatch(/^[0-9a-f-]{36}$/); // generated when absent
  s.terminate();
});

test('CPA requests: 03 unknown configuration, 06 audio first, 04 over the tenant quota, 07 frame too large, 08 idle', async () => {
  await setCpaParams(url, 'acme', 'c', {});
  expect((await exchange([j({ tenant_id: 'acme', config_name: 'nope' })]))[0]).toMatchObject({ result: '03' });
  expect((await exchange([Buffer.alloc(320)]))[0]).toMatchObject({ result: '06', reason: 'audio received before a CPA request' });
  const a = await RemoteCpaSession.open({ url, tenant: 'acme', config: 'c' });
  const b = await RemoteCpaSession.open({ url, tenant: 'acme', config: 'c' });
  await expect(RemoteCpaSession.open({ url, tenant: 'acme', config: 'c' })).rejects.toThrow(
    new CpaRequestError('04', 'tenant acme is at its limit of 2 concurrent sessions'),
  );
  a.terminate();
  b.terminate();
  await new Promise((r) => setTimeout(r, 100));
  const big = await exchange([j({ tenant_id: 'acme', config_name: 'c' }), Buffer.alloc(70 * 1024)]);
  expect(big.map((x) => x.result)).toEqual(['OK', '07']);
  const t0 = Date.now();
  const idle = await exchange([j({ tenant_id: 'acme', config_name: 'c', call_uuid: 'quiet-1' })], 5000);
  expect(idle.map((x) => [x.result, x.call_uuid])).toEqual([
    ['OK', 'quiet-1'],
    ['08', 'quiet-1'],
  ]);
  expect(Date.now() - t0).toBeLessThan(3500);
  expect(server.activeSessions).toBe(0);
});

test('results carry the protocol fields; a break event says break and the server closes after its grace', async () => {
  await setCpaParams(url, 'acme', 'brk', { break_events: 'LV,AM' });
  const s = await RemoteCpaSession.open({ url, tenant: 'acme', config: 'brk', callUuid: 'u-42' });
  const results: Record<string, unknown>[] = [];
  s.on('result', (r) => results.push(r));
  // "hello" then silence: LV
  const hello = Int16Array.from({ length: 8000 * 6 }, (_, i) =>
    i > 4000 && i < 9000 ? Math.round(6000 * Math.sin(i / 4) * Math.sin(i / 900)) : 0,
  );
  for (let i = 0; i < hello.length && s.open; i += 2000) s.push(hello.subarray(i, i + 2000));
  await s.closed(3000);
  expect(results[0]).toMatchObject({ result: 'LV', break: true, call_uuid: 'u-42', decision: true, request_count: expect.any(Number) });
  const r = results[0]!;
  expect(typeof r.reason).toBe('string');
  expect(r.duration).toBeGreaterThanOrEqual(r.at_ms as number);
  expect(r.max_energy).toBeGreaterThan(1000);
  expect(r.pattern).toMatch(/^[0-9]+$/);
  expect((r.pattern as string).length).toBe(Math.floor((r.duration as number) / 100));
  expect(r.real_time).toBeGreaterThanOrEqual(0);
  expect(server.activeSessions).toBe(0);
});

test('log_voice keeps the analysed audio as a WAV named by call_uuid', async () => {
  await setCpaParams(url, 'acme', 'voice', { log_voice: true });
  const s = await RemoteCpaSession.open({ url, tenant: 'acme', config: 'voice', callUuid: 'rec-1' });
  s.push(new Int16Array(8000).fill(1000));
  s.stop();
  await s.closed();
  await new Promise((r) => setTimeout(r, 200));
  const wav = readAudioFile(join(dir, 'voice', 'rec-1.wav'));
  expect(wav.samples.length).toBe(8000);
});

(existsSync(join(DEV, 'manifest.json')) ? test : test.skip)(
  'every cpa-dev case streamed in 4000-byte frames gets the same events as cpa analyze',
  async () => {
    const params = { detect_dtmf: true, total_timeout: 30000 };
    await setCpaParams(url, 'eval', 'dev', params);
    const cases = (JSON.parse(readFileSync(join(DEV, 'manifest.json'), 'utf8')) as { cases: { file: string }[] }).cases;
    const mismatches: string[] = [];
    const one = async (file: string) => {
      const path = join(DEV, file);
      const expected = analyseFile(path, params);
      const pcm = readAudioFile(path);
      const s = await RemoteCpaSession.open({ url, tenant: 'eval', config: 'dev', sampleRate: pcm.sampleRate as 8000 });
      const got: Record<string, unknown>[] = [];
      s.on('result', (r: Record<string, unknown>) => got.push(r));
      const bytes = pcmBytes(pcm.samples);
      for (let i = 0; i < bytes.length; i += 4000) {
        const chunk = bytes.subarray(i, i + 4000);
        s.push(new Int16Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength)));
      }
      s.stop();
      await s.closed(10_000);
      const strip = (e: Record<string, unknown>) => engineEvent(e);
      if (JSON.stringify(got.map(strip)) !== JSON.stringify(expected))
        mismatches.push(`${file}: ${JSON.stringify(got.map(strip))} vs ${JSON.stringify(expected)}`);
    };
    for (let i = 0; i < cases.length; i += 2) await Promise.all(cases.slice(i, i + 2).map((c) => one(c.file)));
    expect(mismatches).toEqual([]);
    expect(cases.length).toBe(120);
  },
);

test('10,000 malformed messages: an error code each, no crash, memory flat, and the next good session works', async () => {
  await setCpaParams(url, 'acme', 'ok', {});
  let seed = 8765;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const bad = (i: number): string | Buffer => {
    switch (i % 10) {
      case 0:
        return '{not json' + 'x'.repeat(Math.floor(rand() * 50));
      case 1:
        return j({ tenant_id: 42, config_name: ['a'] });
      case 2:
        return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 900) }, () => Math.floor(rand() * 256)));
      case 3:
        return j({ tenant_id: 'acme', config_name: 'ok', evil: true });
      case 4:
        return j({ request_name: 'set_cpa_params', tenant_id: 'acme', config_name: 'x', analysis: 'amd', tones: { FX: 'abc' } });
      case 5:
        return j([1, 2, 3]);
      case 6:
        return j({ request_name: 'teleport', tenant_id: 'a', config_name: 'b' });
      case 7:
        return j({ tenant_id: 'acme', config_name: 'ok', sampling_rate: 44100 });
      case 8:
        return j({ tenant_id: '../../etc', config_name: 'passwd' });
      default:
        return 'null';
    }
  };
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const codes = new Map<string, number>();
  // 100 connections of 100 messages each (a flood per connection)
  for (let c = 0; c < 100; c++) {
    const msgs = Array.from({ length: 100 }, (_, k) => bad(c * 100 + k));
    const replies = await exchange(msgs, 5000, msgs.length);
    for (const r of replies) codes.set(String(r.result), (codes.get(String(r.result)) ?? 0) + 1);
  }
  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(10_000);
  expect(codes.get('OK')).toBeUndefined();
  expect([...codes.keys()].sort()).toEqual(['01', '02', '06']);
  global.gc?.();
  expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(40 * 1024 * 1024);
  expect(server.activeSessions).toBe(0);
  const got = await silentCall(await RemoteCpaSession.open({ url, tenant: 'acme', config: 'ok' }));
  expect(got[0]).toMatchObject({ result: 'LV', decision: true });
}, 120_000);

test('the live tap client: a connection lost mid-call falls back to the in-process engine, nothing reported twice', async () => {
  await setCpaParams(url, 'companion', 'default', {});
  const events: { result: string; at_ms: number; decision?: boolean }[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('warn', { write: (l: string) => void logs.push(JSON.parse(l)) });
  const a = remoteAnalyser({ url, config: 'companion/default', callUuid: 'lost-1', params: resolveParams({}), rate: 8000, log }, (e) =>
    events.push(...e),
  );
  // a machine: 5 s of a speech-like greeting, then a beep, then silence
  const greeting = new Signal().speech(5000, -20).noise(-60).pcm();
  const speech = (n: number, off: number) => greeting.subarray(off, off + n);
  let t = 0;
  const feed = async (pcm: Int16Array) => {
    for (let i = 0; i < pcm.length; i += 160) {
      a.push(pcm.subarray(i, i + 160));
      if (++t % 25 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await feed(speech(8000 * 4, 0));
  await new Promise((r) => setTimeout(r, 200));
  const beforeLoss = events.length;
  // the server goes away mid-call
  await server.close();
  await new Promise((r) => setTimeout(r, 200));
  await feed(speech(8000, 32000));
  await feed(Int16Array.from({ length: 8000 * 0.5 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000))));
  await feed(new Int16Array(8000 * 3));
  await a.end();
  expect(
    logs.some((l) => l.msg === 'CPA service unavailable for this call: analysing it in this process' && l.why === 'connection lost'),
  ).toBe(true);
  expect(events.filter((e) => e.decision)).toHaveLength(1);
  expect(events.find((e) => e.decision)?.result).toBe('AM');
  expect(events.some((e) => e.result === 'BP')).toBe(true);
  expect(events.length).toBeGreaterThan(beforeLoss);
  // in time order, no event twice
  expect(events.map((e) => e.at_ms)).toEqual([...events.map((e) => e.at_ms)].sort((x, y) => x - y));
  await start(); // afterEach closes a server
});

test('wss:// with a certificate and key: a session over TLS decides as over ws://', async () => {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const tls = new CpaServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    configs: cpaConfigStore(loadConfig({ env: {} }), catalog),
    tls: { cert: readFileSync(cert), key: readFileSync(key) },
  });
  const { url: wss } = await tls.listen();
  try {
    expect(wss).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    await setCpaParams(url, 'acme', 'tls', {});
    // an unknown CA is refused by the client, the right one is taken
    await expect(RemoteCpaSession.open({ url: wss, tenant: 'acme', config: 'tls' })).rejects.toThrow(/self.signed|certificate/i);
    const got = await silentCall(await RemoteCpaSession.open({ url: wss, tenant: 'acme', config: 'tls', ca: readFileSync(cert) }));
    expect(got[0]).toMatchObject({ result: 'LV', decision: true });
  } finally {
    await tls.close();
  }
});
