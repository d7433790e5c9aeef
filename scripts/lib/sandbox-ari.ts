import { SANDBOX_ARI_PASSWORD } from '../../src/config';

// ARI REST of the sandbox Asterisk, independent of the service's own client: what tests and benchmarks
// believe about Asterisk.
export const ARI_URL = 'http://127.0.0.1:8088';

/** GET on the sandbox's ARI (another node's with `base`, e.g. http://127.0.0.1:8090). */
export async function ariGet<T>(path: string, base = ARI_URL): Promise<T> {
  const res = await fetch(`${base}/ari${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`dialplan-companion:${SANDBOX_ARI_PASSWORD}`).toString('base64')}` },
  });
  if (!res.ok) throw new Error(`ARI GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}
