import type { SqlDb } from './sql';

// Named CPA configurations saved through the CPA server's set_cpa_params (tenant/name keys, the same
// names as cpa.configs). In the catalog's database, so every instance that shares it sees them and they
// outlive a restart.

export interface StoredCpaConfig {
  params: Record<string, unknown>;
  log_voice: boolean;
  log_rtp_history: boolean;
}

export class CpaConfigTable {
  constructor(private readonly db: SqlDb) {}

  async get(key: string): Promise<StoredCpaConfig | undefined> {
    const r = await this.db.get<{ config: string }>('SELECT config FROM cpa_configs WHERE key = ?', key);
    return r ? (JSON.parse(r.config) as StoredCpaConfig) : undefined;
  }

  async set(key: string, config: StoredCpaConfig, now = new Date()): Promise<void> {
    await this.db.run(
      'INSERT INTO cpa_configs (key, config, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at',
      key,
      JSON.stringify(config),
      now.toISOString(),
    );
  }

  async list(): Promise<{ key: string; updatedAt: string }[]> {
    return (await this.db.all<{ key: string; updated_at: string }>('SELECT key, updated_at FROM cpa_configs ORDER BY key')).map((r) => ({
      key: r.key,
      updatedAt: r.updated_at,
    }));
  }
}
