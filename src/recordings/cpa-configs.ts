import type Database from 'better-sqlite3';

// Named CPA configurations saved through the CPA server's set_cpa_params (tenant/name keys, the same
// names as cpa.configs). In the catalog's database, so every instance that shares it sees them and they
// outlive a restart.

export interface StoredCpaConfig {
  params: Record<string, unknown>;
  log_voice: boolean;
  log_rtp_history: boolean;
}

export class CpaConfigTable {
  constructor(private readonly db: Database.Database) {}

  get(key: string): StoredCpaConfig | undefined {
    const r = this.db.prepare('SELECT config FROM cpa_configs WHERE key = ?').get(key) as { config: string } | undefined;
    return r ? (JSON.parse(r.config) as StoredCpaConfig) : undefined;
  }

  set(key: string, config: StoredCpaConfig, now = new Date()): void {
    this.db
      .prepare(
        'INSERT INTO cpa_configs (key, config, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at',
      )
      .run(key, JSON.stringify(config), now.toISOString());
  }

  list(): { key: string; updatedAt: string }[] {
    return (this.db.prepare('SELECT key, updated_at FROM cpa_configs ORDER BY key').all() as { key: string; updated_at: string }[]).map(
      (r) => ({ key: r.key, updatedAt: r.updated_at }),
    );
  }
}
