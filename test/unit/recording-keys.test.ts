import { RecordingKeys } from '../../src/ari/recording-keys';
import { createLogger } from '../../src/log';

test('key sequences drive the recording; keys too far apart or out of place do nothing', async () => {
  const calls: string[] = [];
  const rk = new RecordingKeys(
    { pause: '*1', resume: '*2', stop: '#9' },
    {
      mute: async (on) => calls.push(on ? 'mute' : 'unmute'),
      stop: async () => calls.push('stop'),
      setState: async (s) => calls.push(`state:${s}`),
    },
    createLogger('silent'),
  );
  await rk.onDigit('*', 0);
  await rk.onDigit('2', 100); // resume while recording: nothing
  await rk.onDigit('*', 5000);
  await rk.onDigit('1', 8000); // more than 2 s after '*': not a sequence
  await rk.onDigit('*', 9000);
  await rk.onDigit('1', 9500);
  expect(rk.state).toBe('paused');
  await rk.onDigit('*', 10000);
  await rk.onDigit('2', 10100);
  await rk.onDigit('#', 11000);
  await rk.onDigit('9', 11100);
  await rk.onDigit('*', 12000);
  await rk.onDigit('1', 12100); // after stop: ignored
  expect(calls).toEqual(['mute', 'state:paused', 'unmute', 'state:recording', 'stop', 'state:stopped']);
});
