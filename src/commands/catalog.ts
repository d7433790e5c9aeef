import { readFileSync } from 'node:fs';
import { catalogLocation, INSTANCE_NAME, loadConfig } from '../config';
import { CatalogUnavailableError, copyCatalog, CopyError, openWritableCatalog, type Catalog } from '../recordings';
import { UsageError, type Command } from './command';
import { openCatalog } from './recordings';

export const catalog: Command = {
  name: 'catalog',
  summary: 'copy the catalog to another backend (SQLite file -> PostgreSQL, or back)',
  usage: 'dialplan-companion catalog copy --to postgres://user:password@host:port/db|FILE [--instance NAME]',
  help: `Options:
  --config FILE     JSON config file (also DC_CONFIG); the catalog it names is the source
  --to LOCATION     the target: a postgres:// URL (or a SQLite file); its database must exist and be empty
  --to-file FILE    read the target URL from this file (keeps the password off the command line)
  --instance NAME   written on recordings that name no instance: the companion whose disk holds them
                    (default: instance / DC_INSTANCE, the host name)
Stop the service first: the copy reads a catalog nobody is writing to. Then point DC_DATABASE_URL at the target.`,
  options: { config: { type: 'string' }, to: { type: 'string' }, 'to-file': { type: 'string' }, instance: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals[0] !== 'copy') throw new UsageError(`unknown subcommand '${positionals[0] ?? ''}' (expected: copy)`);
    const cfg = loadConfig({ file: values.config as string | undefined });
    const to = values['to-file'] ? readFileSync(values['to-file'] as string, 'utf8').trim() : (values.to as string | undefined);
    if (!to) throw new UsageError('copy needs --to LOCATION (or --to-file FILE)');
    if (catalogLocation(cfg) === to) throw new UsageError('--to is the catalog being copied');
    const instance = (values.instance as string | undefined) ?? cfg.instance;
    if (!INSTANCE_NAME.test(instance)) throw new UsageError('--instance: letters, digits, . _ - (up to 64)');
    const source = await openCatalog(values, cfg);
    let target: Catalog | undefined;
    try {
      target = await openWritableCatalog(to);
      process.stdout.write(`copying ${source.db.where} -> ${target.db.where}\n`);
      const counts = await copyCatalog(source, target, {
        instance,
        onTable: (name, rows) => process.stdout.write(`  ${name.padEnd(18)} ${rows}\n`),
      });
      process.stdout.write(
        `done: ${counts.recordings} recordings (unnamed ones now of instance ${instance}); set DC_DATABASE_URL to the target\n`,
      );
      return 0;
    } catch (e) {
      if (!(e instanceof CopyError) && !(e instanceof CatalogUnavailableError)) throw e;
      process.stderr.write(`dialplan-companion catalog: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await source.close();
      await target?.close();
    }
  },
};
