import { routesOf, sharedNode, type Config } from '../config';
import type { Logger } from '../log';
import type { Catalog, Recording } from './catalog';
import { Recorder } from './registrar';
import { Archiver } from './archiver';
import type { Bucket } from './bucket';
import { startRetention } from './retention';

/**
 * The recorder (rows written ahead, completed at the hangup, the recovery sweep) and the retention rule.
 * The sweep starts with `sweeps()`, once every door that can report a call is up.
 */
export function startRecorder(
  cfg: Config,
  catalog: Catalog,
  d: { onRegistered: (r: Recording) => void; isActive: (uniqueid: string) => boolean; log: Logger; bucket?: Bucket },
): { recorder: Recorder; sweeps(): void; stop(): Promise<void> } {
  const rec = cfg.recordings;
  const recorder = new Recorder({
    catalog,
    root: rec.localDir,
    asteriskDir: rec.asteriskDir,
    routes: routesOf(cfg),
    log: d.log.child({ module: 'recordings' }),
    onRegistered: d.onRegistered,
    isActive: d.isActive,
    recoverDays: rec.recoverFiles ? rec.recoverDays : -1,
    node: sharedNode(cfg),
    writtenBy: cfg.instance,
  });
  const retention = startRetention({
    catalog,
    root: rec.localDir,
    days: rec.retentionDays,
    log: d.log.child({ module: 'retention' }),
    node: sharedNode(cfg),
    bucket: d.bucket,
  });
  return {
    recorder,
    sweeps: () => recorder.startSweeps(rec.recoverEveryMs),
    async stop() {
      await retention.stop();
      await recorder.stop();
    },
  };
}

/** The archiver, when a bucket is configured: catalogued audio into the bucket, verified. */
export function startArchiver(cfg: Config, catalog: Catalog, bucket: Bucket, log: Logger): { archiver: Archiver; stop(): Promise<void> } {
  const archiver = new Archiver({
    catalog,
    bucket,
    root: cfg.recordings.localDir,
    log: log.child({ module: 'archive' }),
    removeLocal: !cfg.recordings.keepLocal,
    node: sharedNode(cfg),
    pollMs: cfg.s3.pollMs,
    maxBackoffMs: cfg.s3.maxBackoffMs,
  });
  archiver.start();
  return { archiver, stop: () => archiver.stop() };
}
