import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';

// One check of one target: resolves when it answers, rejects with why it did not. Each probe opens and
// closes its own socket; nothing is left behind after the timeout.

export type Probe = (timeoutMs: number) => Promise<void>;

function withTimeout<T>(what: string, timeoutMs: number, run: (done: (e?: Error, v?: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => undefined;
    let finished = false;
    const done = (e?: Error, v?: T) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      cleanup();
      if (e) reject(e);
      else resolve(v as T);
    };
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    cleanup = run(done);
  });
}

/** A check of our own (the bucket: answers and takes a write) within the probe's time limit. */
export function checkProbe(what: string, check: () => Promise<void>): Probe {
  return (timeoutMs) =>
    withTimeout<void>(what, timeoutMs, (done) => {
      check().then(
        () => done(),
        (e: unknown) => done(e as Error),
      );
      return () => undefined;
    });
}

/** A TCP connection is accepted (and, when `banner` is given, the server's first line starts with it). */
export function tcpProbe(host: string, port: number, banner?: string): Probe {
  return (timeoutMs) =>
    withTimeout<void>(`tcp ${host}:${port}`, timeoutMs, (done) => {
      const s = connect({ host, port });
      s.setEncoding('latin1');
      let buf = '';
      s.on('connect', () => {
        if (!banner) done();
      });
      s.on('data', (d: string) => {
        buf += d;
        if (!banner || !buf.includes('\n')) return;
        if (buf.startsWith(banner)) done();
        else done(new Error(`${host}:${port} greeted with ${JSON.stringify(buf.trim().slice(0, 60))}`));
      });
      s.on('error', (e) => done(new Error(`${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
      s.on('close', () => done(new Error(`${host}:${port} closed the connection`)));
      return () => s.destroy();
    });
}

/** An SMTP server greets with 220 (a 421 greeting means it refuses service). */
export const smtpProbe = (host: string, port: number): Probe => tcpProbe(host, port, '220');

/**
 * A SIP OPTIONS request over UDP (what trunks use to ping each other): any SIP response, even 401/404,
 * proves the far end is up; ICMP "port unreachable" or silence means it is not.
 */
export function sipOptionsProbe(host: string, port: number): Probe {
  return (timeoutMs) =>
    withTimeout<void>(`sip ${host}:${port}`, timeoutMs, (done) => {
      const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      const branch = `z9hG4bK-dc-${randomBytes(6).toString('hex')}`;
      const callId = `${randomBytes(8).toString('hex')}@dialplan-companion`;
      sock.on('error', (e) => done(new Error(`${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
      sock.on('message', (m) => {
        const first = m.toString('latin1', 0, Math.min(m.length, 200)).split('\r\n')[0] ?? '';
        if (/^SIP\/2\.0 \d{3}/.test(first) && m.includes(callId)) done();
      });
      sock.connect(port, host, () => {
        const a = sock.address();
        const local = `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
        const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
        const msg = [
          `OPTIONS sip:${target} SIP/2.0`,
          `Via: SIP/2.0/UDP ${local};branch=${branch};rport`,
          'Max-Forwards: 70',
          `From: <sip:monitor@${local}>;tag=${randomBytes(4).toString('hex')}`,
          `To: <sip:${target}>`,
          `Call-ID: ${callId}`,
          'CSeq: 1 OPTIONS',
          `Contact: <sip:monitor@${local}>`,
          'Accept: application/sdp',
          'User-Agent: dialplan-companion monitor',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        sock.send(msg);
      });
      return () => sock.close();
    });
}

/** An HTTP GET that must answer 2xx (e.g. ARI's /ari/asterisk/ping with its credentials). */
export function httpProbe(url: string, headers: Record<string, string> = {}): Probe {
  return async (timeoutMs) => {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) }).catch((e: unknown) => {
      const err = e as Error & { cause?: { code?: string } };
      throw new Error(
        `${new URL(url).host}: ${err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.message)}`,
      );
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`${new URL(url).host} answered HTTP ${res.status}`);
  };
}

/** ICMP echo through the system's ping (raw sockets need privileges a Node process should not have). */
export function pingProbe(host: string, pingBinary = 'ping'): Probe {
  return (timeoutMs) =>
    withTimeout<void>(`ping ${host}`, timeoutMs + 500, (done) => {
      const p = spawn(pingBinary, ['-n', '-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000))), host], { stdio: 'ignore' });
      p.on('error', (e) =>
        done(
          new Error(
            `ping ${host}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `no '${pingBinary}' command (install iputils-ping)` : e.message}`,
          ),
        ),
      );
      p.on('exit', (code) => (code === 0 ? done() : done(new Error(`ping ${host}: no reply`))));
      return () => p.kill();
    });
}
