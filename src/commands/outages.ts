import { humanDuration } from '../monitor';
import { UsageError, type Command } from './command';
import { openCatalog } from './recordings';

export const outages: Command = {
  name: 'outages',
  summary: "list the connectivity monitor's outages (ARI, SIP, webhook, SMTP, ping, TCP) and their durations",
  usage: 'dialplan-companion outages [--since ISO] [--target NAME] [--limit N] [--json]',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG)
  --since ISO     outages that started at or after (e.g. 2026-11-23)
  --target NAME   one target, as logged (e.g. "sip 203.0.113.5:5060")
  --limit N       at most N rows (default 100)
  --json          JSON instead of text`,
  options: {
    config: { type: 'string' },
    since: { type: 'string' },
    target: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number >= 1');
    const since = values.since as string | undefined;
    if (since !== undefined && Number.isNaN(Date.parse(since)))
      throw new UsageError('--since must be a date or time, e.g. 2026-11-23 or 2026-11-23T08:00:00Z');
    const c = await openCatalog(values);
    try {
      const rows = await c.outages.list({
        since: since && new Date(since).toISOString(),
        target: values.target as string | undefined,
        limit,
      });
      const text = () =>
        rows
          .map(
            (o) =>
              `${o.startedAt}  ${o.target.padEnd(28)} ${o.instance ? `[${o.instance}] ` : ''}${o.endedAt ? `down ${humanDuration(o.durationMs ?? 0)}` : 'DOWN (ongoing)'}  ${o.error}`,
          )
          .join('\n') || '(none)';
      process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : `${text()}\n`);
      return 0;
    } finally {
      await c.close();
    }
  },
};
