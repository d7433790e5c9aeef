import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Bucket, Catalog, Recorder } from '../recordings';
import type { TargetStatus } from '../monitor';
import { startPortal } from './app';
import type { OpsOptions } from './ops';

/** The portal with its uploads and signed downloads, listening on portal.host:port. */
export async function startPortalFor(
  cfg: Config,
  d: {
    catalog: Catalog;
    bucket?: Bucket;
    recorder: Recorder;
    linkSecret: string;
    connectivity: () => TargetStatus[];
    log: Logger;
    ops?: OpsOptions;
    onUpload?: (outcome: string) => void;
  },
): Promise<{ url: string; stop(): Promise<void> }> {
  const p = cfg.portal;
  const root = cfg.recordings.localDir;
  const session = {
    secret: p.sessionSecret ?? randomBytes(32).toString('base64url'),
    absoluteMs: p.sessionHours * 3600_000,
    idleMs: p.sessionIdleMinutes * 60_000,
    secure: cfg.transport.publicUrl.startsWith('https:'),
    origins: [new URL(cfg.transport.publicUrl).origin],
    trustProxy: p.trustProxy,
  };
  const portal = await startPortal({
    connectivity: d.connectivity,
    ops: d.ops,
    host: p.host,
    port: p.port,
    maxConnections: p.maxConnections,
    headersTimeoutMs: p.headersTimeoutMs,
    log: d.log.child({ module: 'portal' }),
    downloads: { catalog: d.catalog, root, bucket: d.bucket, linkSecret: d.linkSecret },
    session,
    upload: {
      root,
      tokens: p.uploadTokens,
      maxBytes: p.maxUploadBytes,
      maxConcurrent: p.maxConcurrentUploads,
      onOutcome: d.onUpload,
      register: (f) =>
        d.recorder.registerNow({
          uniqueid: null,
          ani: f.ani,
          dnis: f.dnis,
          file: f.path,
          source: 'upload',
          endedAt: new Date(),
          complete: { durationMs: f.durationMs, format: f.format },
        }),
    },
  });
  // Sessions past their limits are refused when used; this removes the ones never used again.
  const prune = setInterval(() => {
    void d.catalog.sessions.prune(session).catch(() => undefined);
    void d.catalog.loginCounts.prune(Date.now() - 2 * 24 * 3600_000).catch(() => undefined);
  }, 10 * 60_000);
  prune.unref();
  return {
    url: portal.url,
    async stop() {
      clearInterval(prune);
      const closed = new Promise<void>((r) => portal.server.close(() => r()));
      portal.server.closeAllConnections();
      await closed;
    },
  };
}
