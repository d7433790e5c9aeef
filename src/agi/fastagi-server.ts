import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log';
import { peerAllowed, sameSecret } from '../net/access';
import {
  AgiProtocolError,
  MAX_ENV_LINES,
  MAX_LINE_BYTES,
  argsOf,
  parseEnvLine,
  parseReply,
  quoteArg,
  scriptOf,
  type AgiEnvironment,
  type AgiReply,
} from './protocol';

/** What a script sees of its call: the environment and a command channel back to Asterisk. */
export interface AgiCall {
  env: AgiEnvironment;
  /** The script name from the AGI URL (agi://host:port/<name>). */
  script: string;
  query: URLSearchParams;
  args: string[];
  log: Logger;
  /** True once Asterisk said HANGUP: only dead-channel commands (GET/SET VARIABLE, VERBOSE) still work. */
  readonly hungUp: boolean;
  command(line: string): Promise<AgiReply>;
  /** A channel variable or function (GET FULL VARIABLE, so ${CHANNEL(linkedid)} works); undefined when unset. */
  get(expression: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  verbose(message: string, level?: number): Promise<void>;
}

export type AgiScript = (call: AgiCall) => Promise<void>;

export interface FastAgiOptions {
  scripts: Record<string, AgiScript>;
  log: Logger;
  /** Time allowed for Asterisk to send the environment block. */
  envTimeoutMs?: number;
  /** Time allowed for one command's reply. */
  commandTimeoutMs?: number;
  maxConnections?: number;
  /** Source addresses allowed to connect (Asterisk hosts); undefined: anyone who can reach the port. */
  allowFrom?: readonly string[];
  /** When set, every request must carry ?secret=<this> in its AGI URL (remote Asterisk hosts). */
  secret?: string;
  /** Each connection's end (metrics): the script asked for ('' when none was read) and how it went. */
  onSession?: (script: string, outcome: 'ok' | 'protocol_error' | 'unknown_script' | 'script_error' | 'refused') => void;
}

export interface FastAgiStats {
  sessions: number;
  protocolErrors: number;
  unknownScripts: number;
  scriptErrors: number;
  /** Connections from an address not in allowFrom, or requests without the right secret. */
  refused: number;
}

/**
 * A FastAGI server (what `AGI(agi://host:port/script)` connects to). One connection per AGI() call: read the
 * environment, run the named script, close. Anything that is not the AGI protocol closes that connection
 * and is counted; it never reaches a script or stops the server.
 */
export class FastAgiServer {
  readonly stats: FastAgiStats = { sessions: 0, protocolErrors: 0, unknownScripts: 0, scriptErrors: 0, refused: 0 };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly o: FastAgiOptions) {
    this.server = createServer((s) => this.accept(s));
    this.server.maxConnections = o.maxConnections ?? 500;
  }

  listen(host: string, port: number): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as { address: string; port: number };
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting, lets running scripts finish (up to `graceMs`), then closes what is left. */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    const allow = this.o.allowFrom;
    if (allow && !peerAllowed(socket.remoteAddress, allow)) {
      this.stats.refused++;
      this.o.onSession?.('', 'refused');
      this.o.log.warn({ remote: socket.remoteAddress, allowFrom: allow }, 'FastAGI connection refused: address not in agi.allowFrom');
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const session = new AgiConnection(socket, this.o);
    const p = session.run().then(
      (outcome) => {
        this.o.onSession?.(session.script, outcome.replace('-', '_') as 'ok');
        if (outcome === 'protocol-error') this.stats.protocolErrors++;
        else if (outcome === 'unknown-script') this.stats.unknownScripts++;
        else if (outcome === 'script-error') this.stats.scriptErrors++;
        else if (outcome === 'refused') this.stats.refused++;
        else this.stats.sessions++;
      },
      () => undefined,
    );
    this.running.add(p);
    void p.finally(() => {
      this.running.delete(p);
      this.sockets.delete(socket);
    });
  }
}

type Outcome = 'ok' | 'protocol-error' | 'unknown-script' | 'script-error' | 'refused';

/** One AGI() call: a line reader, the environment, then command/reply turns. */
class AgiConnection implements AgiCall {
  env: AgiEnvironment = {};
  script = '';
  query = new URLSearchParams();
  args: string[] = [];
  log: Logger;
  hungUp = false;
  private buf = '';
  private readonly envLines: [string, string][] = [];
  private envComplete = false;
  private envDone!: (ok: boolean) => void;
  private readonly envReady = new Promise<boolean>((r) => (this.envDone = r));
  private pending: { resolve: (r: AgiReply) => void; reject: (e: Error) => void; usage: string[] | undefined } | undefined;
  private closedError: Error | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly o: FastAgiOptions,
  ) {
    this.log = o.log;
    socket.setEncoding('utf8'); // caller names may be UTF-8
    socket.on('data', (d: string) => this.onData(d));
    socket.on('error', () => undefined); // a reset connection ends the session below
    socket.on('close', () => this.onClose());
  }

  async run(): Promise<Outcome> {
    const timer = setTimeout(() => this.fail(new AgiProtocolError('no complete AGI environment in time')), this.o.envTimeoutMs ?? 5000);
    const ok = await this.envReady;
    clearTimeout(timer);
    if (!ok) {
      this.o.log.warn(
        { remote: this.socket.remoteAddress, err: this.closedError?.message },
        'FastAGI connection dropped: not the AGI protocol',
      );
      this.socket.destroy();
      return 'protocol-error';
    }
    this.env = Object.fromEntries(this.envLines);
    const { name, query } = scriptOf(this.env);
    this.script = name;
    this.query = query;
    this.args = argsOf(this.env);
    this.log = this.o.log.child({ uniqueid: this.env.uniqueid, agi: name, channel: this.env.channel });
    const script = Object.hasOwn(this.o.scripts, name) ? this.o.scripts[name] : undefined;
    try {
      if (this.o.secret !== undefined && !sameSecret(this.query.get('secret') ?? '', this.o.secret)) {
        this.log.warn({ remote: this.socket.remoteAddress }, 'FastAGI request refused: missing or wrong secret (agi.secret)');
        await this.set('DC_AGI_ERROR', 'refused: missing or wrong secret').catch(() => undefined);
        return 'refused';
      }
      if (!script) {
        this.log.warn({ known: Object.keys(this.o.scripts) }, 'unknown FastAGI script');
        // The dialplan can test ${DC_AGI_ERROR}; the console shows why.
        await this.set('DC_AGI_ERROR', `unknown script '${name}'`).catch(() => undefined);
        await this.verbose(`dialplan-companion: unknown AGI script '${name}' (known: ${Object.keys(this.o.scripts).join(', ')})`, 1).catch(
          () => undefined,
        );
        return 'unknown-script';
      }
      await script(this);
      return 'ok';
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'FastAGI script failed');
      return 'script-error';
    } finally {
      this.socket.end();
    }
  }

  command(line: string): Promise<AgiReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) return Promise.reject(new Error('one AGI command at a time'));
    if (/[\r\n]/.test(line)) return Promise.reject(new AgiProtocolError('an AGI command is one line'));
    return new Promise<AgiReply>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new Error(`no reply to '${line.split(' ', 2).join(' ')}' within ${this.o.commandTimeoutMs ?? 10_000} ms`)),
        this.o.commandTimeoutMs ?? 10_000,
      );
      this.pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        usage: undefined,
      };
      this.socket.write(`${line}\n`);
    });
  }

  async get(expression: string): Promise<string | undefined> {
    const expr = /^[A-Za-z_][A-Za-z0-9_]*$/.test(expression) ? `\${${expression}}` : expression;
    const r = await this.ok(`GET FULL VARIABLE ${quoteArg(expr)}`);
    return r.result === '1' ? (r.data ?? '') : undefined;
  }

  async set(name: string, value: string): Promise<void> {
    await this.ok(`SET VARIABLE ${quoteArg(name)} ${quoteArg(value)}`);
  }

  async verbose(message: string, level = 3): Promise<void> {
    await this.ok(`VERBOSE ${quoteArg(message)} ${level}`);
  }

  private async ok(line: string): Promise<AgiReply> {
    const r = await this.command(line);
    if (r.code !== 200) throw new Error(`Asterisk refused '${line.split(' ', 3).join(' ')}': ${r.raw}`);
    return r;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line);
      if (this.closedError) return;
    }
    if (this.buf.length > MAX_LINE_BYTES) this.fail(new AgiProtocolError(`line longer than ${MAX_LINE_BYTES} bytes`));
  }

  private onLine(line: string): void {
    try {
      if (!this.envComplete) {
        const kv = parseEnvLine(line);
        if (!kv) {
          if (this.envLines.length === 0) throw new AgiProtocolError('empty AGI environment');
          this.envComplete = true;
          this.envDone(true);
          return;
        }
        if (this.envLines.length >= MAX_ENV_LINES) throw new AgiProtocolError(`more than ${MAX_ENV_LINES} environment lines`);
        this.envLines.push(kv);
        return;
      }
      // Asterisk tells a FastAGI server when the channel hangs up, between replies.
      if (line === 'HANGUP') {
        this.hungUp = true;
        return;
      }
      const p = this.pending;
      if (!p) return; // nothing asked: ignore
      if (p.usage) {
        // 520-Invalid command syntax.  Proper usage follows: ... 520 End of proper usage.
        p.usage.push(line);
        if (!line.startsWith('520 ')) return;
        this.pending = undefined;
        p.resolve({ code: 520, result: '', data: undefined, raw: p.usage.join('\n') });
        return;
      }
      if (line.startsWith('520-')) {
        p.usage = [line];
        return;
      }
      const reply = parseReply(line);
      this.pending = undefined;
      p.resolve(reply);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    this.envDone(false);
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
    this.socket.destroy();
  }

  private onClose(): void {
    this.fail(new Error(this.envComplete ? 'AGI connection closed' : 'AGI connection closed before the environment ended'));
  }
}
