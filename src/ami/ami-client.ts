import { connect } from 'node:net';

// A minimal Asterisk Manager Interface client: one short connection per action (log in, act, log off).
// AMI is used only for what ARI cannot do on a running call (MixMonitorMute, StopMixMonitor), a few
// times per call at most, so a persistent connection would be more to keep alive than it saves.

export interface AmiOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  timeoutMs?: number;
}

export type AmiMessage = Record<string, string>;

export class AmiError extends Error {
  override name = 'AmiError';
}

function encode(msg: AmiMessage): string {
  return `${Object.entries(msg)
    .map(([k, v]) => `${k}: ${String(v).replace(/[\r\n]/g, ' ')}`)
    .join('\r\n')}\r\n\r\n`;
}

function decode(block: string): AmiMessage {
  const out: AmiMessage = {};
  for (const line of block.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** Sends one action; resolves with its response, rejects on a failed login, an Error response or a timeout. */
export async function amiAction(o: AmiOptions, action: AmiMessage): Promise<AmiMessage> {
  return (await exchange(o, action, false))[0]!;
}

/**
 * Sends a list action (ShowDialPlan, CoreShowChannels, ...); resolves with its events, in order, once
 * Asterisk says `EventList: Complete`.
 */
export async function amiList(o: AmiOptions, action: AmiMessage): Promise<AmiMessage[]> {
  return (await exchange(o, action, true)).slice(1).filter((m) => m.EventList !== 'Complete');
}

function exchange(o: AmiOptions, action: AmiMessage, list: boolean): Promise<AmiMessage[]> {
  return new Promise<AmiMessage[]>((resolve, reject) => {
    const got: AmiMessage[] = [];
    const sock = connect({ host: o.host, port: o.port });
    let buf = '';
    let stage: 'banner' | 'login' | 'action' | 'done' = 'banner';
    const finish = (err: Error | undefined) => {
      if (stage === 'done') return;
      stage = 'done';
      clearTimeout(timer);
      sock.end(encode({ Action: 'Logoff' }));
      sock.destroySoon?.();
      if (err) reject(err);
      else resolve(got);
    };
    const timer = setTimeout(
      () => finish(new AmiError(`AMI ${action.Action}: no answer within ${o.timeoutMs ?? 5000} ms`)),
      o.timeoutMs ?? 5000,
    );
    sock.setEncoding('utf8');
    sock.on('error', (e) => finish(new AmiError(`AMI ${o.host}:${o.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    sock.on('close', () => finish(new AmiError('AMI connection closed early')));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (stage === 'banner') {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        buf = buf.slice(nl + 2); // "Asterisk Call Manager/x.y.z"
        stage = 'login';
        sock.write(encode({ Action: 'Login', ActionID: 'dc-login', Username: o.username, Secret: o.secret, Events: 'off' }));
      }
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const msg = decode(buf.slice(0, end));
        buf = buf.slice(end + 4);
        if (stage === 'login' && msg.ActionID === 'dc-login') {
          if (msg.Response !== 'Success') return finish(new AmiError(`AMI login refused: ${msg.Message ?? 'unknown reason'}`));
          stage = 'action';
          sock.write(encode({ ...action, ActionID: 'dc-action' }));
        } else if (stage === 'action' && msg.ActionID === 'dc-action') {
          // A list whose first message is an Error (ShowDialPlan of an unknown context) ends there.
          if (msg.Response === 'Error') return finish(new AmiError(`AMI ${action.Action}: ${msg.Message ?? 'error'}`));
          got.push(msg);
          if (!list || msg.EventList === 'Complete') return finish(undefined);
        }
      }
    });
  });
}
