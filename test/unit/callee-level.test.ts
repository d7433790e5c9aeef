// The callee's level through an utterance against the room behind them (src/cpa/detectors/callee-level.ts).
import { CalleeLevel } from '../../src/cpa/detectors/callee-level';

const HOP_MS = 16;
const QUIET_DB = -35; // the line's level between sounds

/** Frames of one level from `fromMs` up to (not including) `toMs`. */
const push = (c: CalleeLevel, fromMs: number, toMs: number, db: number) => {
  for (let t = fromMs; t < toMs; t += HOP_MS) c.push(t, db);
};

/** A greeting at -20 dB whose last 400 ms fell to -30 (near the room's level): maxtime asks whether the room took over. */
const utterance = (c: CalleeLevel, startMs: number) => {
  push(c, startMs, startMs + 2400, -20);
  push(c, startMs + 2400, startMs + 2800, -30);
  return c.tookOver(startMs + 2800, startMs, QUIET_DB);
};

test('the voice just fell to the room`s level: wait a little (soft) before calling it a greeting', () => {
  expect(utterance(new CalleeLevel(), 0)).toEqual({ verdict: 'soft' });
});

test('an utterance started over (the room had started it) has its own wait: the old one is not carried into it', () => {
  const c = new CalleeLevel();
  expect(utterance(c, 0)).toEqual({ verdict: 'soft' });
  c.reset();
  expect(utterance(c, 4000)).toEqual({ verdict: 'soft' });
});
