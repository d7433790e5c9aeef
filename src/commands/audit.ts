import { AUDIT_ACTIONS, type AuditAction } from '../recordings';
import { UsageError, type Command } from './command';
import { openCatalog } from './recordings';

export const audit: Command = {
  name: 'audit',
  summary: 'the audit trail: logins, who viewed, played or downloaded which recording, admin changes',
  usage: 'dialplan-companion audit list [--user NAME] [--action ACTION] [--target ID] [--since DATE] [--until DATE] [--limit N] [--json]',
  help: `Newest first. Read-only: nothing in the portal or the CLI edits or deletes the trail.

Options:
  --config FILE     JSON config file (also DC_CONFIG)
  --user NAME       who (a portal user, "cli", "signed link", or the name tried in a failed login)
  --action ACTION   one of ${AUDIT_ACTIONS.join(', ')}
  --target ID       a recording id, a user name or a delivery id
  --since, --until  dates or times, e.g. 2026-11-23 or 2026-11-23T08:00:00Z
  --limit N         at most N entries (default 100, at most 1000)
  --json            one JSON array instead of text`,
  options: {
    config: { type: 'string' },
    user: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals[0] !== 'list') throw new UsageError(`unknown subcommand '${positionals[0] ?? ''}' (expected: list)`);
    const action = values.action as string | undefined;
    if (action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`--action must be one of ${AUDIT_ACTIONS.join(', ')}`);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const time = (k: 'since' | 'until') => {
      const v = values[k] as string | undefined;
      if (v === undefined) return undefined;
      if (Number.isNaN(Date.parse(v))) throw new UsageError(`--${k} must be a date or time, e.g. 2026-11-23 or 2026-11-23T08:00:00Z`);
      return new Date(v).toISOString();
    };
    const c = await openCatalog(values);
    try {
      const rows = await c.audit.list({
        actor: values.user as string | undefined,
        action: action as AuditAction | undefined,
        target: values.target as string | undefined,
        since: time('since'),
        until: time('until'),
        limit,
      });
      process.stdout.write(
        values.json
          ? `${JSON.stringify(rows)}\n`
          : `${rows.map((e) => [e.at, e.actor, e.action, e.target ?? '-', e.remote ?? '-', e.detail ?? ''].join('  ').trimEnd()).join('\n') || '(none)'}\n`,
      );
      return 0;
    } finally {
      await c.close();
    }
  },
};
