// Operations on the real service: /metrics scraped while sandbox calls run (parsed strictly as the
// Prometheus text format; the counters move by what happened), its access rule, and /readyz following
// Asterisk going away and coming back.
import { ensureSandbox, sandbox, waitFor } from '../support/sandbox';
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { parsePromText, value } from '../support/prom-text';

const SECRET = 'metrics-test-secret-0123456789ab';
const TOKEN = 'metrics-token-0123456789abcdef';
let fx: DeliveryFixture | undefined;

beforeAll(async () => {
  await ensureSandbox();
}, 600_000);
afterEach(async () => {
  await fx?.stop();
  fx = undefined;
});

async function scrape(headers: Record<string, string> = {}) {
  const res = await fetch(`${fx!.svc.portalUrl}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

test('/metrics while calls run: strictly parseable, the counters move by what happened, histograms have buckets', async () => {
  fx = await startWithReceivers(SECRET, 'ops@example.test', { DC_METRICS_TOKEN: TOKEN }, { connected: true });
  const before = parsePromText((await scrape()).text).samples;
  const calls = await Promise.all([
    runSipp({ dial: '*1234175551234', talkMs: 7000, localPort: 5900 }),
    runSipp({ dial: '*1234175552000', talkMs: 14000, localPort: 5920 }),
  ]);
  for (const r of calls) expect(r.successful + r.failed).toBe(1);
  await waitFor('2 calls delivered', async () => (await fx!.svc.catalog.counts()).delivered >= 4, 40_000); // webhook + e-mail each
  const got = await scrape();
  expect(got.status).toBe(200);
  expect(got.type).toMatch(/^text\/plain; version=0\.0\.4/);
  const { samples, types } = parsePromText(got.text);
  const d = (name: string, labels: Record<string, string> = {}) => value(samples, name, labels) - value(before, name, labels);
  const P = 'dialplan_companion_';
  expect(d(`${P}calls_total`, { outcome: 'answered' })).toBe(2);
  expect(d(`${P}cpa_results_total`, { result: 'LV' })).toBe(1);
  expect(d(`${P}cpa_results_total`, { result: 'AM' })).toBe(1);
  expect(d(`${P}cpa_results_total`, { result: 'BP' })).toBe(1);
  expect(d(`${P}cpa_decision_seconds_count`)).toBe(2);
  expect(d(`${P}recordings_total`, { source: 'ari' })).toBe(2);
  expect(d(`${P}delivery_attempts_total`, { kind: 'webhook', outcome: 'delivered' })).toBe(2);
  expect(d(`${P}delivery_attempts_total`, { kind: 'email', outcome: 'delivered' })).toBe(2);
  expect(d(`${P}delivery_seconds_count`)).toBe(4);
  expect(value(samples, `${P}deliveries`, { status: 'delivered' })).toBeGreaterThanOrEqual(4);
  expect(value(samples, `${P}calls_active`)).toBe(0);
  expect(d(`${P}rtp_packets_total`)).toBeGreaterThan(400); // two tapped calls, 50 packets a second
  expect(value(samples, `${P}target_up`, { target: 'ari 127.0.0.1:8088', kind: 'ari' })).toBe(1);
  expect(types.get(`${P}cpa_decision_seconds`)).toBe('histogram');
  const buckets = samples.filter((s) => s.name === `${P}cpa_decision_seconds_bucket`);
  expect(buckets.map((b) => b.labels.le)).toContain('+Inf');
  expect(buckets.find((b) => b.labels.le === '+Inf')!.value).toBe(value(samples, `${P}cpa_decision_seconds_count`));
  expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
}, 120_000);

test('/metrics from an address not allowed: 401 without the token, 200 with it', async () => {
  fx = await startWithReceivers(SECRET, 'ops@example.test', { DC_METRICS_TOKEN: TOKEN, DC_METRICS_ALLOW_FROM: '' }, { connected: true });
  expect((await scrape()).status).toBe(401);
  expect((await scrape({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
  const ok = await scrape({ authorization: `Bearer ${TOKEN}` });
  expect(ok.status).toBe(200);
  expect(() => parsePromText(ok.text)).not.toThrow();
});

test('/readyz: 200 while ready; Asterisk stopped: 503 naming ARI; started again: 200', async () => {
  fx = await startWithReceivers(SECRET, 'ops@example.test', {}, { connected: true });
  const readyz = async () => {
    const r = await fetch(`${fx!.svc.portalUrl}/readyz`);
    return { status: r.status, body: (await r.json()) as { ok: boolean; problems: string[] } };
  };
  expect(await readyz()).toEqual({ status: 200, body: { ok: true, problems: [] } });
  await sandbox('stop');
  try {
    const down = await waitFor('503', async () => ((await readyz()).status === 503 ? readyz() : undefined), 20_000, 200);
    expect(down.body.problems).toEqual(['ARI: not connected to Asterisk']);
  } finally {
    await sandbox('start');
  }
  await waitFor('200 again', async () => (await readyz()).status === 200, 30_000, 200);
  expect((await fetch(`${fx.svc.portalUrl}/healthz`)).status).toBe(200);
}, 120_000);
