import type { Catalog } from './catalog';
import type { Row } from './sql';

// Moving a catalog to another backend (the usual case: a single companion's SQLite file into the PostgreSQL
// that several will share): every table copied with its keys, in the order their references need, into an
// empty catalog at the same schema version. Rows of recordings that name no instance get the one given: their
// files are on that companion's disk, and with a shared catalog an unnamed row would be anyone's to sweep.

export class CopyError extends Error {
  override name = 'CopyError';
}

// Each table with its key (keyset paging) and whether the key is an integer identity (PostgreSQL sequence).
const TABLES: { name: string; key: string; identity: boolean }[] = [
  { name: 'recordings', key: 'id', identity: false },
  { name: 'deliveries', key: 'id', identity: true },
  { name: 'delivery_attempts', key: 'id', identity: true },
  { name: 'users', key: 'username', identity: false },
  { name: 'sessions', key: 'id_hash', identity: false },
  { name: 'audit', key: 'id', identity: true },
  { name: 'outages', key: 'id', identity: true },
  { name: 'cpa_configs', key: 'key', identity: false },
  { name: 'login_counts', key: 'key', identity: false },
];
const BATCH = 500;

export async function copyCatalog(
  from: Catalog,
  to: Catalog,
  o: { instance: string; onTable?: (name: string, rows: number) => void },
): Promise<Record<string, number>> {
  for (const t of ['recordings', 'users', 'audit']) {
    const n = Number((await to.db.get<{ n: number }>(`SELECT COUNT(*) n FROM ${t}`))?.n ?? 0);
    if (n) throw new CopyError(`the target catalog is not empty (${n} rows in ${t}): copy into a new, empty database`);
  }
  const counts: Record<string, number> = {};
  for (const t of TABLES) {
    let after: unknown;
    let copied = 0;
    for (;;) {
      const rows = await from.db.all<Row>(
        `SELECT * FROM ${t.name} ${after === undefined ? '' : `WHERE ${t.key} > ?`} ORDER BY ${t.key} LIMIT ?`,
        ...(after === undefined ? [] : [after]),
        BATCH,
      );
      if (!rows.length) break;
      const cols = Object.keys(rows[0]!);
      const marks = `(${cols.map(() => '?').join(', ')})`;
      await to.db.tx(async (tx) => {
        await tx.run(
          `INSERT INTO ${t.name} (${cols.join(', ')}) VALUES ${rows.map(() => marks).join(', ')}`,
          ...rows.flatMap((r) => cols.map((c) => (t.name === 'recordings' && c === 'node' && r[c] == null ? o.instance : r[c]))),
        );
      });
      copied += rows.length;
      after = rows[rows.length - 1]![t.key];
    }
    // The identities continue after the copied keys, or the next insert would collide with a copied row.
    if (t.identity && to.dialect === 'postgres')
      await to.db.get(
        `SELECT setval(pg_get_serial_sequence('${t.name}', '${t.key}'), COALESCE((SELECT MAX(${t.key}) FROM ${t.name}), 0) + 1, false)`,
      );
    const there = Number((await to.db.get<{ n: number }>(`SELECT COUNT(*) n FROM ${t.name}`))?.n ?? 0);
    if (there !== copied) throw new CopyError(`${t.name}: ${copied} rows read, ${there} in the target`);
    counts[t.name] = copied;
    o.onTable?.(t.name, copied);
  }
  return counts;
}
