import { basename } from 'node:path';
import type { FinishedCall } from '../recordings';
import type { AgiCall, AgiScript } from './fastagi-server';

// Values Asterisk puts in agi_callerid / agi_dnid when there is none.
const NONE = new Set(['', 'unknown', '<unknown>']);

function seconds(v: string | undefined): number | undefined {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * `AGI(agi://127.0.0.1:4573/recording-done[,DNIS])`, for dialplans that record with MixMonitor and dial
 * without Stasis: after `Dial(...,g)` or from a hangup handler. Reads the file MixMonitor writes, the caller
 * id and the dialled number, answers the dialplan at once (DC_RECORDING=queued|none) and hands the
 * recording over; it is catalogued once MixMonitor has closed the file, which happens at the hangup.
 */
export function recordingDone(deliver: (call: FinishedCall) => void): AgiScript {
  return async (agi: AgiCall) => {
    const file = await agi.get('MIXMONITOR_FILENAME');
    if (!file) {
      agi.log.warn('recording-done: the channel has no MIXMONITOR_FILENAME (MixMonitor not started on it?)');
      await agi.set('DC_RECORDING', 'none');
      return;
    }
    const env = agi.env;
    // The file must be this channel's own: its name carries the channel's uniqueid (the snippet's naming,
    // <date>-<time>-<ANI>-<DNIS>-<uniqueid>.wav). A process that merely reached the port cannot hand over
    // another call's recording, or any WAV under the root, under made-up numbers.
    const uniqueid = env.uniqueid ?? '';
    if (!uniqueid || !basename(file).includes(uniqueid)) {
      agi.log.warn({ file, uniqueid }, "recording-done: refused, the file's name does not carry the channel's uniqueid");
      await agi.set('DC_RECORDING', 'refused');
      return;
    }
    const ani = NONE.has(env.callerid ?? '') ? '' : env.callerid!;
    const dnis = agi.args[0] || (NONE.has(env.dnid ?? '') ? '' : env.dnid!) || env.extension || '';
    const now = Date.now();
    // Dial() leaves how long it rang and talked; without a Dial they are unset.
    const linkedid = await agi.get('${CHANNEL(linkedid)}');
    const dialed = seconds(await agi.get('DIALEDTIME'));
    const answered = seconds(await agi.get('ANSWEREDTIME'));
    const call: FinishedCall = {
      uniqueid: env.uniqueid || null,
      linkedid: linkedid || null,
      ani,
      dnis,
      file,
      source: 'agi',
      startedAt: dialed !== undefined ? new Date(now - dialed * 1000) : undefined,
      answeredAt: answered !== undefined && answered > 0 ? new Date(now - answered * 1000) : undefined,
      endedAt: new Date(now),
    };
    await agi.set('DC_RECORDING', 'queued');
    agi.log.info({ file, ani, dnis, hungUp: agi.hungUp }, 'recording-done: recording handed over');
    deliver(call);
  };
}
