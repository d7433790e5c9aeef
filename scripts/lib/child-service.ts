// The real service as its own process (dialplan-companion serve), for tests that kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait';

// From src (jest) or dist/scripts (benchmarks): the built CLI either way.
const CLI = join(__dirname, '..', '..', ...(__dirname.includes('/dist/') ? ['..'] : []), 'dist', 'src', 'cli.js');

export class ChildService {
  private child: ChildProcess | undefined;
  /** Log lines (parsed JSON) of every run, oldest first. */
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';

  constructor(private readonly env: Record<string, string>) {}

  start(): void {
    const child = spawn('node', [CLI, 'serve'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not a log line */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Starts it and waits until its ARI WebSocket is up. */
  async startConnected(timeoutMs = 20_000): Promise<void> {
    const before = this.logs.filter((l) => l.msg === 'ARI WebSocket connected').length;
    this.start();
    await waitFor(
      'ARI WebSocket connected',
      () => this.logs.filter((l) => l.msg === 'ARI WebSocket connected').length > before,
      timeoutMs,
      100,
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null) return c?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill(signal);
    return exited;
  }
}
