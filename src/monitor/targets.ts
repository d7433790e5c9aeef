import { checkProbe, httpProbe, pingProbe, sipOptionsProbe, smtpProbe, tcpProbe } from './probes';
import type { Target } from './monitor';

export interface MonitorConfig {
  ari: { url: string; username: string; password: string };
  /** Webhook route URLs (each distinct host:port is one target). */
  webhooks: string[];
  /** Checked when some route delivers by e-mail or alerts are mailed. */
  smtp: { host: string; port: number } | undefined;
  sip: string[];
  ping: string[];
  tcp: string[];
  /** The archive bucket, when there is one: answers and takes a write. */
  bucket?: { where: string; check(): Promise<void> };
}

export function hostPort(v: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(v);
  if (!m) throw new Error(`not host:port: ${v}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** What to watch, from the service's configuration: ARI always, the delivery routes, and the listed extras. */
export function monitorTargets(c: MonitorConfig): Target[] {
  const targets: Target[] = [];
  const add = (t: Target) => {
    if (!targets.some((x) => x.name === t.name)) targets.push(t);
  };
  const auth = `Basic ${Buffer.from(`${c.ari.username}:${c.ari.password}`).toString('base64')}`;
  add({
    name: `ari ${new URL(c.ari.url).host}`,
    kind: 'ari',
    probe: httpProbe(`${c.ari.url.replace(/\/$/, '')}/ari/asterisk/ping`, { authorization: auth }),
  });
  for (const url of c.webhooks) {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    add({ name: `webhook ${u.hostname}:${port}`, kind: 'webhook', probe: tcpProbe(u.hostname.replace(/^\[|\]$/g, ''), port) });
  }
  if (c.smtp) add({ name: `smtp ${c.smtp.host}:${c.smtp.port}`, kind: 'smtp', probe: smtpProbe(c.smtp.host, c.smtp.port) });
  for (const s of c.sip) {
    const { host, port } = hostPort(s);
    add({ name: `sip ${s}`, kind: 'sip', probe: sipOptionsProbe(host, port) });
  }
  for (const h of c.ping) add({ name: `ping ${h}`, kind: 'ping', probe: pingProbe(h) });
  for (const s of c.tcp) {
    const { host, port } = hostPort(s);
    add({ name: `tcp ${s}`, kind: 'tcp', probe: tcpProbe(host, port) });
  }
  const bucket = c.bucket;
  if (bucket)
    add({
      name: `bucket ${bucket.where}`,
      kind: 'bucket',
      probe: checkProbe(`bucket ${bucket.where}`, () => bucket.check()),
    });
  return targets;
}
