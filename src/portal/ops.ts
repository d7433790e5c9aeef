import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import { peerAllowed, sameSecret } from '../net/access';

export interface OpsOptions {
  /** Prometheus registry served at /metrics. */
  registry?: Registry;
  /** Addresses that may scrape without a token (loopback by default). */
  metricsAllowFrom: readonly string[];
  /** Bearer token for everyone else (none: only allowFrom). */
  metricsToken?: string;
  /** /readyz's checks. */
  ready?: () => Promise<{ ok: boolean; problems: string[] }>;
}

/** /metrics (Prometheus text format) and /readyz (200, or 503 with what is wrong); /healthz stays liveness. */
export function opsRouter(o: OpsOptions): Router {
  const r = express.Router();
  r.get('/readyz', async (_req, res) => {
    const s = (await o.ready?.()) ?? { ok: true, problems: [] };
    res.status(s.ok ? 200 : 503).json(s);
  });
  r.get('/metrics', async (req, res) => {
    if (!o.registry) return res.status(404).json({ ok: false, error: 'not found' });
    const auth = String(req.headers.authorization ?? '');
    const fromAllowed = peerAllowed(req.socket.remoteAddress, o.metricsAllowFrom);
    const withToken = !!o.metricsToken && auth.startsWith('Bearer ') && sameSecret(auth.slice(7), o.metricsToken);
    if (!fromAllowed && !withToken)
      return res
        .status(401)
        .set('www-authenticate', 'Bearer')
        .json({ ok: false, error: 'metrics: from an allowed address or with Authorization: Bearer <DC_METRICS_TOKEN>' });
    res.type(o.registry.contentType).send(await o.registry.metrics());
  });
  return r;
}
