// Several processes opening the same new catalog at once (two companions, or serve and a CLI command at the
// first start): every one opens it, the schema is applied once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/recordings/catalog';

const OPEN = `
const { Catalog } = require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'src', 'recordings'))});
const at = Number(process.argv[2]);
while (Date.now() < at) {}
Catalog.open(process.argv[1]).then((c) => c.close());
`;

test('8 processes opening one new catalog at the same moment: all succeed, each migration applied once', async () => {
  for (let round = 0; round < 5; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'dc-migrate-'));
    const file = join(dir, 'catalog.sqlite');
    const at = Date.now() + 700;
    const codes = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<{ code: number | null; err: string }>((resolve) => {
            const p = spawn('node', ['-e', OPEN, file, String(at)], { stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            p.stderr.on('data', (b: Buffer) => (err += b.toString()));
            p.on('exit', (code) => resolve({ code, err }));
          }),
      ),
    );
    expect(
      codes
        .filter((c) => c.code !== 0)
        .map((c) =>
          c.err
            .split('\n')
            .filter((l) => /Error|at /.test(l))
            .slice(0, 4)
            .join(' / '),
        ),
    ).toEqual([]);
    const db = new Database(file, { readonly: true });
    const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
      (r) => r.version,
    );
    db.close();
    expect(versions).toEqual(MIGRATIONS.map((_, i) => i + 1));
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
