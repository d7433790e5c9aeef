import type { Config } from '../config';
import type { Logger } from '../log';
import type { Recorder } from '../recordings';
import { FastAgiServer, type FastAgiOptions } from './fastagi-server';
import { recordingDone } from './recording-done';

/** The FastAGI door, listening: `recording-done` hands a channel's MixMonitor file to the recorder. */
export async function startAgi(
  cfg: Config,
  recorder: Recorder,
  log: Logger,
  onSession?: FastAgiOptions['onSession'],
): Promise<{ agi: FastAgiServer; url: string; stop(): Promise<void> }> {
  const agi = new FastAgiServer({
    log: log.child({ module: 'agi' }),
    allowFrom: cfg.agi.allowFrom.length ? cfg.agi.allowFrom : undefined,
    secret: cfg.agi.secret,
    onSession,
    scripts: { 'recording-done': recordingDone((call) => recorder.callFinished(call)) },
  });
  const bound = await agi.listen(cfg.agi.host, cfg.agi.port);
  const url = `agi://${bound.address}:${bound.port}`;
  log.info({ agi: url }, 'FastAGI server listening');
  return { agi, url, stop: () => agi.close() };
}
