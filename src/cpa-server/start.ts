import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Catalog } from '../recordings';
import { ERROR, ProtocolError, type SavedConfig } from './protocol';
import { CpaServer } from './server';

/** The store as the catalog backs it; it can list its names. */
export interface CatalogConfigs {
  get(key: string): Promise<SavedConfig | undefined>;
  set(key: string, config: SavedConfig): Promise<void>;
  keys(): Promise<string[]>;
}

/**
 * Named configurations for the CPA server: the config file's cpa.configs (read-only here: change them in
 * the file) and, beside them, those saved with set_cpa_params in the catalog's database.
 */
export function cpaConfigStore(cfg: Config, catalog: Catalog): CatalogConfigs {
  const file = cfg.cpa.configs;
  return {
    get: async (key) =>
      Object.hasOwn(file, key) ? { params: file[key]!, log_voice: false, log_rtp_history: false } : catalog.cpaConfigs.get(key),
    set: async (key, config: SavedConfig) => {
      if (Object.hasOwn(file, key))
        throw new ProtocolError(
          ERROR.cannotSave,
          `configuration ${key} is defined in the configuration file (cpa.configs): change it there`,
        );
      try {
        await catalog.cpaConfigs.set(key, config);
      } catch (e) {
        throw new ProtocolError(ERROR.cannotSave, `configuration ${key} could not be saved: ${(e as Error).message}`);
      }
    },
    keys: async () => [...Object.keys(file), ...(await catalog.cpaConfigs.list()).map((x) => x.key)],
  };
}

/** The CPA WebSocket server with its limits from the configuration, listening. */
export async function startCpaServer(
  cfg: Config,
  catalog: Catalog,
  log: Logger,
): Promise<{ server: CpaServer; url: string; stop(): Promise<void> }> {
  const s = cfg.cpa.server;
  const server = new CpaServer({
    host: s.host,
    port: s.port,
    log,
    configs: cpaConfigStore(cfg, catalog),
    limits: {
      maxSessions: s.maxSessions,
      maxSessionsPerTenant: s.maxSessionsPerTenant,
      maxFrameBytes: s.maxFrameBytes,
      idleTimeoutMs: s.idleTimeoutMs,
      maxSessionMs: s.maxSessionMs,
    },
    tls: s.tlsCertFile && s.tlsKeyFile ? { cert: readFileSync(s.tlsCertFile), key: readFileSync(s.tlsKeyFile) } : undefined,
    voiceDir: s.voiceDir ?? join(dirname(cfg.recordings.catalogFile), 'cpa-voice'),
  });
  const { url } = await server.listen();
  return { server, url, stop: () => server.close() };
}
