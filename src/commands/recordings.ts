import { existsSync } from 'node:fs';
import { catalogLocation, loadConfig } from '../config';
import { Catalog, type Delivery } from '../recordings';
import { UsageError, type Command } from './command';

/** The configured catalog, which must exist already (reading commands never create one). */
export function openCatalog(
  values: Record<string, unknown>,
  cfg = loadConfig({ file: values.config as string | undefined }),
): Promise<Catalog> {
  if (!cfg.recordings.databaseUrl && !existsSync(cfg.recordings.catalogFile))
    throw new UsageError(`no catalog at ${cfg.recordings.catalogFile} (recordings.catalogFile / DC_CATALOG_FILE)`);
  return Catalog.open(catalogLocation(cfg));
}

const out = (json: boolean, data: unknown, text: () => string) => process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${text()}\n`);

export const recordings: Command = {
  name: 'recordings',
  summary: 'list and show catalogued recordings',
  usage:
    'dialplan-companion recordings list [--ani N] [--dnis N] [--since ISO] [--limit N] [--json]\n       dialplan-companion recordings show ID [--json]',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG)
  --ani, --dnis   filter by caller / dialled number
  --since ISO     catalogued at or after (e.g. 2026-11-23)
  --limit N       at most N rows (default 50)
  --json          JSON instead of text`,
  options: {
    config: { type: 'string' },
    ani: { type: 'string' },
    dnis: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, id] = positionals;
    const json = values.json === true;
    if (sub === 'list') {
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number >= 1');
      const c = await openCatalog(values);
      const rows = await c.listRecordings({
        ani: values.ani as string | undefined,
        dnis: values.dnis as string | undefined,
        since: values.since as string | undefined,
        limit,
      });
      out(
        json,
        rows,
        () =>
          rows
            .map(
              (r) =>
                `${r.id}  ${r.createdAt}  ${r.ani} -> ${r.dnis}  ${(r.durationMs / 1000).toFixed(1)} s  ${r.cpaResult ?? '-'}  ${r.source}`,
            )
            .join('\n') || '(none)',
      );
      await c.close();
      return 0;
    }
    if (sub === 'show') {
      if (!id) throw new UsageError('show needs a recording ID');
      const c = await openCatalog(values);
      const r = await c.getRecording(id);
      if (!r) {
        process.stderr.write(`dialplan-companion recordings: no recording ${id}\n`);
        await c.close();
        return 1;
      }
      const deliveries = await c.deliveriesOf(id);
      out(json, { ...r, deliveries }, () =>
        [
          ...Object.entries(r).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
          'deliveries:',
          ...deliveries.map(
            (d) =>
              `  #${d.id} ${d.route} (${d.kind} ${d.target}) ${d.status}, ${d.attempts} attempt(s)${d.lastError ? `, last error: ${d.lastError}` : ''}`,
          ),
        ].join('\n'),
      );
      await c.close();
      return 0;
    }
    throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: list or show)`);
  },
};

function line(d: Delivery): string {
  return `#${d.id}  ${d.recordingId}  ${d.route} (${d.kind})  ${d.status}  attempts ${d.attempts}${d.lastError ? `  ${d.lastError}` : ''}`;
}

export const deliveries: Command = {
  name: 'deliveries',
  summary: 'the delivery outbox: list, show dead letters, retry',
  usage:
    'dialplan-companion deliveries list [--status S] [--json]\n       dialplan-companion deliveries dead [--json]\n       dialplan-companion deliveries retry ID...',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG)
  --status S      pending, sending, delivered or dead
  --json          JSON instead of text
retry puts dead (or waiting) deliveries back in the queue now; the running service sends them.`,
  options: { config: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, ...ids] = positionals;
    const json = values.json === true;
    if (sub === 'list' || sub === 'dead') {
      const status = sub === 'dead' ? 'dead' : (values.status as string | undefined);
      if (status && !['pending', 'sending', 'delivered', 'dead'].includes(status))
        throw new UsageError(`--status must be pending, sending, delivered or dead, got "${status}"`);
      const c = await openCatalog(values);
      const rows = await c.listDeliveries(status as Delivery['status'] | undefined, 500);
      out(json, rows, () => rows.map(line).join('\n') || '(none)');
      await c.close();
      return 0;
    }
    if (sub === 'retry') {
      if (!ids.length || ids.some((i) => !/^\d+$/.test(i)))
        throw new UsageError('retry needs one or more delivery numbers (see deliveries list)');
      const c = await openCatalog(values);
      let failed = 0;
      for (const i of ids) {
        if (await c.retryDelivery(Number(i))) process.stdout.write(`#${i} queued again\n`);
        else {
          failed++;
          process.stderr.write(`#${i}: no such delivery waiting or dead (delivered ones are not sent again)\n`);
        }
      }
      await c.close();
      return failed ? 1 : 0;
    }
    throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: list, dead or retry)`);
  },
};
