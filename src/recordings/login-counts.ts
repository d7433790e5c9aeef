import type { SqlDb } from './sql';

// The portal's failed-login counts (src/portal/login-throttle.ts), in the catalog: every companion sharing it
// counts the same guesses, and a restart does not lift a block. One transaction per change, its rows locked
// in key order (no two changes can deadlock), so a check and its reservation are one step on every backend.

export interface LoginCount {
  failures: number;
  inFlight: number;
  since: number;
  blockedUntil: number;
  strikes: number;
}

type Row = { key: string; failures: number; in_flight: number; since: number; blocked_until: number; strikes: number };

export class LoginCountTable {
  constructor(private readonly db: SqlDb) {}

  update<T>(keys: string[], now: number, fn: (counts: Map<string, LoginCount>) => T): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    return this.db.tx(async (t) => {
      for (const k of sorted)
        await t.run(
          'INSERT INTO login_counts (key, failures, in_flight, since, blocked_until, strikes) VALUES (?, 0, 0, ?, 0, 0) ON CONFLICT (key) DO NOTHING',
          k,
          Math.round(now),
        );
      const rows = await t.all<Row>(
        `SELECT * FROM login_counts WHERE key IN (${sorted.map(() => '?').join(', ')}) ORDER BY key ${t.forUpdate}`,
        ...sorted,
      );
      const m = new Map<string, LoginCount>(
        rows.map((r) => [
          r.key,
          {
            failures: Number(r.failures),
            inFlight: Number(r.in_flight),
            since: Number(r.since),
            blockedUntil: Number(r.blocked_until),
            strikes: Number(r.strikes),
          },
        ]),
      );
      const out = fn(m);
      for (const k of sorted) {
        const c = m.get(k);
        if (!c) await t.run('DELETE FROM login_counts WHERE key = ?', k);
        else
          await t.run(
            'UPDATE login_counts SET failures = ?, in_flight = ?, since = ?, blocked_until = ?, strikes = ? WHERE key = ?',
            c.failures,
            c.inFlight,
            Math.round(c.since),
            Math.round(c.blockedUntil),
            c.strikes,
            k,
          );
      }
      return out;
    });
  }

  /** Counts with nothing left to say (window over, no block, nothing in flight): the table stays small. */
  prune(olderThan: number, now = Date.now()): Promise<number> {
    return this.db.run(
      'DELETE FROM login_counts WHERE since < ? AND blocked_until < ? AND in_flight = 0',
      Math.round(olderThan),
      Math.round(now),
    );
  }
}
