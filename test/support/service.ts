import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { startService, type Service } from '../../src/serve';
import type { CallSummary } from '../../src/ari';
import { waitFor } from './sandbox';
import { catalogEnv, catalogLocation } from './pg';

export interface TestService extends Service {
  ended: CallSummary[];
  /** Every log line the service wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Local path of a recording Asterisk wrote (inside the sandbox chroot). */
  localRecording(asteriskPath: string): string;
}

/** The real service, in-process, against the sandbox Asterisk. */
export async function startTestService(chroot: string, env: Record<string, string> = {}): Promise<TestService> {
  // A catalog of its own unless the test brings one (a fresh PostgreSQL database on the PostgreSQL runs);
  // removed when the service stops.
  const ownDir = env.DC_CATALOG_FILE || env.DC_DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'dc-catalog-'));
  const cfg: Config = loadConfig({
    env: {
      DC_RECORDINGS_LOCAL_DIR: join(chroot, 'var/spool/asterisk/monitor'),
      ...(ownDir ? catalogEnv(await catalogLocation(ownDir), ownDir) : {}),
      DC_PORTAL_PORT: '0',
      DC_AGI_PORT: '0',
      DC_ARI_RECONNECT_MIN_MS: '200',
      DC_ARI_RECONNECT_MAX_MS: '1000',
      // The sandbox's spool holds every test's calls; only the recovery tests look for files without rows.
      DC_RECOVER_FILES: 'false',
      ...env,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const sink = {
    write(line: string) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (process.env.DC_TEST_LOG) process.stderr.write(line);
    },
  };
  const svc = await startService(cfg, createLogger(process.env.DC_TEST_LOG ?? 'info', sink));
  const ended: CallSummary[] = [];
  svc.stasis.on('call-ended', (s: CallSummary) => ended.push(s));
  return {
    ...svc,
    async stop() {
      await svc.stop();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
    ended,
    logs,
    localRecording(p: string) {
      if (!p.startsWith(cfg.recordings.asteriskDir)) throw new Error(`recording outside ${cfg.recordings.asteriskDir}: ${p}`);
      return join(cfg.recordings.localDir, p.slice(cfg.recordings.asteriskDir.length));
    },
  };
}

/** The service, once its ARI WebSocket is up (calls placed before that would find no Stasis app). */
export async function startConnectedService(chroot: string, env: Record<string, string> = {}): Promise<TestService> {
  const svc = await startTestService(chroot, env);
  await waitFor('ARI connection', () => svc.ari.connected, 20_000);
  return svc;
}
