// The suite's bounded load (npm run bench:calls runs the large one): 60 calls at 10 new calls/s into a real
// `serve` process; every recording catalogued once and delivered once, CPA right on every tapped call,
// nothing left in Asterisk, the service alive.
import { runCallLoad } from '../../scripts/lib/call-load';
import { ensureSandbox } from '../support/sandbox';

let chroot: string;
beforeAll(async () => {
  chroot = await ensureSandbox();
}, 600_000);

test('60 calls at 10/s: 60 catalogued once, 60 delivered, CPA LV/AM, taps on time, 0 leftovers', async () => {
  const r = await runCallLoad({ calls: 60, rate: 10, talkMs: 10_000, chroot, settleMs: 60_000 });
  expect(r.sipp.reduce((a, s) => a + s.successful, 0)).toBe(60);
  expect({
    catalogued: r.catalogued,
    duplicates: r.duplicates,
    delivered: r.delivered,
    alive: r.serviceAlive,
    leftovers: r.leftovers,
  }).toEqual({
    catalogued: 60,
    duplicates: 0,
    delivered: 60,
    alive: true,
    leftovers: { channels: 0, bridges: 0 },
  });
  expect(r.tapped).toBe(60);
  expect(r.tapLagP99).toBeLessThan(1000);
  expect(r.cpa).toEqual({ live: { LV: 30 }, machine: { AM: 30 } });
}, 180_000);
