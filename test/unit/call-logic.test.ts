// Call logic against a fake AriPort: the races of set-up and teardown, the tap's failures and lateness,
// backpressure, and taking over calls a previous run left up. Runs in well under a second, no Asterisk.
import { CallSession, type CallSessionOptions, type CallSummary } from '../../src/ari/call-session';
import { StasisApp } from '../../src/ari/stasis-app';
import { callIds } from '../../src/ari/call-ids';
import { resolveParams, type CpaEvent } from '../../src/cpa';
import { createLogger } from '../../src/log';
import { RtpReceiver, buildRtp, parseRtp, encodeUlaw } from '../../src/media';
import { AriError } from '../../src/ari/ari-client';
import { FakeAri } from '../support/fake-ari';

const log = createLogger('silent');
const CALLER = '1764579600.101';
const ids = callIds(CALLER);
const actions = {
  onFax: 'hangup',
  onSit: 'hangup',
  onMachine: 'none',
  dropMessage: 'sound:vm-goodbye',
  beepWaitMs: 15000,
  onLive: 'none',
  liveTone: 'sound:beep',
} as const;

const tapOptions = () => ({
  receiver: new RtpReceiver(),
  rtpTarget: '127.0.0.1:40000',
  codec: 'ulaw' as const,
  params: resolveParams({}),
  actions,
  maxLagMs: 1000,
});

function session(ari: FakeAri, extra: Partial<CallSessionOptions> = {}) {
  const events: CpaEvent[] = [];
  const ended: CallSummary[] = [];
  const s = new CallSession({
    ari,
    app: 'dialplan-companion',
    log,
    callerChannelId: CALLER,
    callerChannelName: 'PJSIP/sipp-00000001',
    ani: '2125550100',
    dnis: '4175551234',
    endpoint: 'Local/${NUMBER}@fake-pstn',
    dialTimeoutSec: 30,
    tap: tapOptions(),
    onCpaEvent: (e) => events.push(e),
    ...extra,
  });
  s.whenEnded((x) => ended.push(x));
  // The Stasis app routes events by id; here the test does.
  ari.on('event', (ev) => {
    if (ev.type === 'StasisStart' && ev.channel && ev.channel.id !== CALLER) void s.channelStarted(ev.channel.id);
  });
  return { s, events, ended };
}

let rejections: unknown[] = [];
const onRejection = (r: unknown) => rejections.push(r);
beforeEach(() => {
  rejections = [];
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  process.off('unhandledRejection', onRejection);
});

async function answered(ari: FakeAri, extra: Partial<CallSessionOptions> = {}) {
  ari.addChannel(CALLER);
  const t = session(ari, extra);
  await t.s.start();
  ari.channels.get(ids.callee)!.state = 'Up';
  await t.s.channelStarted(ids.callee);
  return t;
}

test('a tap channel that never enters Stasis: no unhandled rejection, the call stays bridged, CPA says unknown, the tap is removed', async () => {
  const ari = new FakeAri();
  ari.stasisStartAfterMs = undefined; // neither snoop nor externalMedia ever reports in
  const { s, events } = await answered(ari, { tap: { ...tapOptions(), readyTimeoutMs: 100 } });
  await FakeAri.settle(150);
  expect(rejections).toEqual([]);
  expect(events).toEqual([
    expect.objectContaining({ result: 'unknown', decision: true, cause: expect.stringMatching(/^tap not ready: .*did not enter Stasis/) }),
  ]);
  expect(s.state).toBe('bridged');
  expect(ari.bridges.has(ids.tapBridge)).toBe(false);
  expect(ari.channels.has(ids.snoop)).toBe(false);
  expect(ari.channels.has(ids.tapMedia)).toBe(false);
  expect(ari.bridges.get(ids.bridge)?.channels).toEqual([CALLER, ids.callee]);
});

test('a failing snoop request ends the tap with unknown and removes the media channel and bridge it did create', async () => {
  const ari = new FakeAri();
  ari.failures.snoop = new AriError('Allocation failed', 500);
  const { events } = await answered(ari);
  await FakeAri.settle(20);
  expect(rejections).toEqual([]);
  expect(events[0]).toMatchObject({ result: 'unknown', cause: 'tap not ready: Allocation failed' });
  expect(ari.bridges.has(ids.tapBridge)).toBe(false);
  expect(ari.channels.has(ids.tapMedia)).toBe(false);
});

test('the tap set-up runs its three requests together, beside the bridging', async () => {
  const ari = new FakeAri();
  for (const m of ['createBridge', 'snoop', 'externalMedia', 'addToBridge'] as const) ari.delays[m] = 50;
  const t0 = Date.now();
  const { events } = await answered(ari);
  await FakeAri.settle(0);
  // caller bridge create (50) + originate, then at the answer: bridging (50) beside tap (50 + 50)
  while (!ari.bridges.get(ids.tapBridge)?.channels.length && Date.now() - t0 < 2000) await FakeAri.settle(5);
  const answerToTap = Date.now() - t0 - 50; // minus the call's own bridge creation before the answer
  expect(ari.bridges.get(ids.tapBridge)?.channels).toEqual([ids.snoop, ids.tapMedia]);
  // serially: bridge + snoop + externalMedia + addToBridge = 200 ms; together: ~100 ms
  expect(answerToTap).toBeLessThan(180);
  expect(events).toEqual([]);
});

test('a tap whose audio starts later than maxTapLagMs reports unknown, with what the engine heard', async () => {
  const ari = new FakeAri();
  let now = 1_000_000;
  const tap = { ...tapOptions(), clock: () => now };
  const { events } = await answered(ari, { tap });
  await FakeAri.settle(10);
  // The first packet arrives 1.5 s after the answer.
  const stream = [...(tap.receiver as unknown as { streams: Map<string, { push(p: unknown): void }> }).streams.values()][0];
  expect(stream).toBeDefined();
  now += 1500;
  for (let i = 0; i < 400; i++)
    stream!.push(
      parseRtp(buildRtp({ payloadType: 0, sequence: i, timestamp: i * 160, ssrc: 7, payload: encodeUlaw(new Int16Array(160)) })),
    );
  const decision = events.find((e) => e.decision);
  expect(decision).toMatchObject({ result: 'unknown', cause: 'tap started 1480 ms after the answer', heard: 'LV' });
});

test("a tap that lost much of the callee's audio (RTP gaps) reports unknown, not the guess made on the filled silence", async () => {
  const ari = new FakeAri();
  const tap = tapOptions();
  const { events } = await answered(ari, { tap });
  await FakeAri.settle(10);
  const stream = [...(tap.receiver as unknown as { streams: Map<string, { push(p: unknown): void }> }).streams.values()][0]!;
  // 0.5 s of a greeting, then a jump of 100 packets (2 s "lost"), then more greeting.
  const voice = () => encodeUlaw(Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 2))));
  let seq = 0;
  for (let i = 0; i < 25; i++, seq++)
    stream.push(parseRtp(buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 9, payload: voice() })));
  seq += 100;
  for (let i = 0; i < 300; i++, seq++)
    stream.push(parseRtp(buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 9, payload: voice() })));
  expect(events.find((e) => e.decision)).toMatchObject({
    result: 'unknown',
    cause: expect.stringMatching(/^the tap lost \d+ % of the callee's audio \(100 of \d+ packets\)$/),
  });
});

test('a tap that Asterisk stops feeding (no packets, no sequence gap) reports unknown, not a guess on the little it heard', async () => {
  const ari = new FakeAri();
  let now = 2_000_000;
  const tap = { ...tapOptions(), clock: () => now };
  const { s, events } = await answered(ari, { tap });
  await FakeAri.settle(10);
  const stream = [...(tap.receiver as unknown as { streams: Map<string, { push(p: unknown): void }> }).streams.values()][0]!;
  // 1.2 s of a greeting arrives in time, then nothing more for 20 s, until the call ends
  const voice = () => encodeUlaw(Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 2))));
  for (let seq = 0; seq < 60; seq++, now += 20)
    stream.push(parseRtp(buildRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 5, payload: voice() })));
  now += 20_000;
  await s.teardown('caller hung up');
  expect(events.find((e) => e.decision)).toMatchObject({
    result: 'unknown',
    cause: expect.stringMatching(/^the tap received \d+ ms of the callee's audio in \d+ ms$/),
    heard: expect.any(String),
  });
});

test('backpressure: a call over the limit is bridged and recorded without a tap, and says why', async () => {
  const ari = new FakeAri();
  const { s, events } = await answered(ari, {
    tap: { ...tapOptions(), gate: () => 'over cpa.maxConcurrentCalls (151 calls > 150)' },
  });
  await FakeAri.settle(10);
  expect(ari.count('snoop')).toBe(0);
  expect(s.state).toBe('bridged');
  expect(events).toEqual([
    { result: 'unknown', at_ms: 0, cause: 'tap skipped: over cpa.maxConcurrentCalls (151 calls > 150)', decision: true },
  ]);
});

test('the caller hangs up while the callee is being originated: the callee created late is hung up too', async () => {
  const ari = new FakeAri();
  ari.addChannel(CALLER);
  ari.delays.originate = 50;
  const { s, ended } = session(ari);
  const starting = s.start();
  await FakeAri.settle(20);
  ari.channels.delete(CALLER);
  await s.channelGone(CALLER);
  await starting;
  await FakeAri.settle(10);
  expect(ended).toHaveLength(1);
  expect(ended[0]!.cause).toBe('caller hung up');
  expect([...ari.channels.keys()]).toEqual([ids.calleeOther].filter((id) => ari.channels.has(id)));
  expect(ari.channels.has(ids.callee)).toBe(false);
  expect(ari.bridges.size).toBe(0);
});

test('the caller hangs up just as the callee answers (12 timings): no bridge is left, not even the tap bridge', async () => {
  for (let i = 0; i < 12; i++) {
    const ari = new FakeAri();
    ari.addChannel(CALLER);
    ari.delays.addToBridge = 5 + (i % 5) * 5;
    ari.delays.createBridge = (i * 7) % 20;
    const { s } = session(ari);
    await s.start();
    const answering = s.channelStarted(ids.callee);
    await FakeAri.settle(i % 10);
    ari.channels.delete(CALLER);
    await s.channelGone(CALLER);
    await answering;
    await FakeAri.settle(35);
    expect({ i, bridges: [...ari.bridges.keys()] }).toEqual({ i, bridges: [] });
    expect([...ari.channels.keys()].filter((c) => c !== ids.calleeOther)).toEqual([]);
  }
});

test('busy before answer: the caller is told busy; teardown twice gives one summary', async () => {
  const ari = new FakeAri();
  ari.addChannel(CALLER);
  const { s, ended } = session(ari);
  await s.start();
  ari.channels.delete(ids.callee);
  await Promise.all([s.channelGone(ids.callee, 17, 'User busy'), s.channelGone(ids.callee, 17, 'User busy'), s.teardown('again')]);
  expect(ended).toHaveLength(1);
  expect(ended[0]!.cause).toBe('dial failed: User busy');
  expect(ari.calls.find((c) => c.method === 'hangup' && c.args[0] === CALLER)?.args[1]).toBe('busy');
  expect(ari.bridges.size).toBe(0);
});

test('write ahead: the call is reported with its file name before it is dialled', async () => {
  const ari = new FakeAri();
  ari.addChannel(CALLER);
  const order: string[] = [];
  const origOriginate = ari.originate.bind(ari);
  ari.originate = (r) => (order.push('originate'), origOriginate(r));
  const { s } = session(ari, { onStarted: (c) => void order.push(`started ${c.recordingFile?.endsWith(`${CALLER}.wav`)}`) });
  await s.start();
  expect(order).toEqual(['started true', 'originate']);
});

describe('after a restart (StasisApp.reconcile)', () => {
  function app(ari: FakeAri, known: Record<string, { ani: string; dnis: string }> = {}) {
    const stasis = new StasisApp({
      ari,
      app: 'dialplan-companion',
      log,
      endpoint: 'Local/${NUMBER}@fake-pstn',
      dialTimeoutSec: 30,
      numberPattern: /^\d{10}$/,
      knownCall: async (u) => (known[u] ? { ...known[u]!, recordingFile: `/x/${u}.wav`, linkedid: u, startedAt: new Date(0) } : undefined),
      openCalls: async () => Object.keys(known),
    });
    const ended: CallSummary[] = [];
    stasis.on('call-ended', (x: CallSummary) => ended.push(x));
    return { stasis, ended };
  }

  test('a bridged call is taken over: left up, and its hangup ends it as usual; the old tap is removed', async () => {
    const ari = new FakeAri();
    ari.addChannel(CALLER, 'PJSIP/sipp-1');
    ari.addChannel(ids.callee, 'Local/x@fake-pstn-1;1');
    ari.addChannel(ids.calleeOther);
    ari.addChannel(ids.snoop);
    ari.addChannel(ids.tapMedia);
    ari.bridges.set(ids.bridge, { id: ids.bridge, channels: [CALLER, ids.callee] });
    ari.bridges.set(ids.tapBridge, { id: ids.tapBridge, channels: [ids.snoop, ids.tapMedia] });
    const { stasis, ended } = app(ari, { [CALLER]: { ani: '2125550100', dnis: '4175551234' } });
    await stasis.reconcile();
    expect(stasis.isActive(CALLER)).toBe(true);
    expect(ari.channels.has(CALLER) && ari.channels.has(ids.callee)).toBe(true);
    expect(ari.channels.has(ids.snoop) || ari.channels.has(ids.tapMedia) || ari.bridges.has(ids.tapBridge)).toBe(false);
    ari.channels.delete(CALLER);
    ari.emitEvent({ type: 'ChannelDestroyed', channel: { id: CALLER, name: 'PJSIP/sipp-1', state: 'Up' }, cause: 16 });
    await FakeAri.settle(10);
    expect(ended).toEqual([
      expect.objectContaining({
        uniqueid: CALLER,
        ani: '2125550100',
        dnis: '4175551234',
        adopted: true,
        recordingFile: `/x/${CALLER}.wav`,
        cause: 'caller hung up',
      }),
    ]);
    expect(ari.channels.has(ids.callee)).toBe(false);
    expect(ari.bridges.size).toBe(0);
  });

  test('a call whose set-up was cut off (callee ringing, or no callee yet) is hung up; a stranger is left alone', async () => {
    const ari = new FakeAri();
    const other = '1764579600.202';
    const stranger = '1764579600.303';
    ari.addChannel(CALLER);
    ari.addChannel(ids.callee, 'Local/x;1', 'Ringing');
    ari.bridges.set(ids.bridge, { id: ids.bridge, channels: [CALLER] });
    ari.addChannel(other); // written ahead, crashed before the dial
    ari.addChannel(stranger); // not ours (an AGI call, a phone)
    const { stasis } = app(ari, { [CALLER]: { ani: '1', dnis: '2' }, [other]: { ani: '1', dnis: '3' } });
    await stasis.reconcile();
    expect([...ari.channels.keys()]).toEqual([stranger]);
    expect(ari.bridges.size).toBe(0);
    expect(stasis.activeCalls).toBe(0);
  });
});
