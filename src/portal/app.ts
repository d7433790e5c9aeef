import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from '../log';
import { uploadRouter, type UploadOptions } from './upload';
import { downloadRouter, type DownloadOptions } from './download';
import { opsRouter, type OpsOptions } from './ops';
import { pagesRouter, type PagesOptions } from './pages';
import { adminRouter } from './admin';
import type { SessionOptions } from './session';

export interface PortalOptions {
  host: string;
  port: number;
  log: Logger;
  upload: Omit<UploadOptions, 'log'>;
  downloads: Omit<DownloadOptions, 'session'>;
  session: SessionOptions;
  connectivity?: PagesOptions['connectivity'];
  /** /metrics and /readyz. */
  ops?: OpsOptions;
  /** Open connections at most (default 1024); more are refused by the kernel's backlog, not served slowly. */
  maxConnections?: number;
  /** Time a client has to send its request headers (default 20 s). */
  headersTimeoutMs?: number;
}

export function portalApp(o: PortalOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.set({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' });
    next();
  });
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.use(opsRouter(o.ops ?? { metricsAllowFrom: [] }));
  app.use(downloadRouter({ ...o.downloads, session: o.session }));
  app.use(
    pagesRouter({
      catalog: o.downloads.catalog,
      root: o.downloads.root,
      bucket: o.downloads.bucket,
      session: o.session,
      log: o.log,
      connectivity: o.connectivity,
    }),
  );
  app.use(adminRouter({ catalog: o.downloads.catalog, session: o.session, log: o.log }));
  if (o.upload.tokens.length) app.use(uploadRouter({ ...o.upload, log: o.log }));
  else app.post('/upload', (_req, res) => res.status(503).json({ ok: false, error: 'uploads are off: set DC_UPLOAD_TOKENS' }));
  app.use((_req, res) => res.status(404).json({ ok: false, error: 'not found' }));
  // Anything thrown in a handler: logged with the path, a plain 500 to the client (no stack trace).
  app.use((err: Error & { status?: number; type?: string }, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (err.status && err.status >= 400 && err.status < 500)
      return res.status(err.status).json({ ok: false, error: err.type ?? err.message });
    o.log.error({ path: req.path, err: err.message }, 'portal request failed');
    if (!res.headersSent) res.status(500).json({ ok: false, error: 'internal error' });
  });
  return app;
}

/** Starts the portal; resolves with the address it listens on. */
export async function startPortal(o: PortalOptions): Promise<{ server: Server; url: string }> {
  // Slow or stalled clients must not hold sockets forever. Node checks these timeouts every
  // connectionsCheckingInterval (30 s by default, so a 20 s limit held ~50 s): check every second.
  const headersTimeout = o.headersTimeoutMs ?? 20_000;
  const server = createServer(
    { requestTimeout: 120_000, headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    portalApp(o),
  );
  server.maxConnections = o.maxConnections ?? 1024;
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const a = server.address() as AddressInfo;
  const url = `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  o.log.info({ url }, 'portal listening');
  return { server, url };
}
