import { mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { catalogLocation, loadConfig } from '../config';
import { Catalog, UserError, MIN_PASSWORD, ROLES, parseExtensions, type AuditAction, type Role } from '../recordings';
import { UsageError, type Command } from './command';

// Passwords come from a file or standard input, never from the command line (it shows up in ps and history).
function readPassword(values: Record<string, unknown>): string {
  const file = values['password-file'] as string | undefined;
  const text = file ? readFileSync(file, 'utf8') : process.stdin.isTTY ? '' : readFileSync(0, 'utf8');
  const pw = text.split(/\r?\n/)[0] ?? '';
  if (!pw) throw new UsageError(`give the password on standard input or with --password-file (at least ${MIN_PASSWORD} characters)`);
  return pw;
}

const SUBS = ['add', 'set', 'passwd', 'disable', 'enable', 'list', 'remove'] as const;

function roleOf(values: Record<string, unknown>): Role | undefined {
  const r = values.role as string | undefined;
  if (r === undefined) return undefined;
  if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got '${r}')`);
  return r as Role;
}

export const users: Command = {
  name: 'users',
  summary: 'manage recordings-portal accounts: roles, extensions, passwords',
  usage: `dialplan-companion users add NAME --role admin|supervisor|agent [--extensions 2001,2002] [--password-file FILE]
       dialplan-companion users set NAME [--role ROLE] [--extensions LIST]
       dialplan-companion users passwd|disable|enable|remove NAME
       dialplan-companion users list [--json]`,
  help: `The password is read from --password-file or the first line of standard input, e.g.
  printf '%s\\n' "$PASSWORD" | dialplan-companion users add alice --role agent --extensions 2001
Roles: admin (everything, the admin pages too), supervisor (every recording), agent (the recordings whose ANI
or DNIS is one of their extensions). The first account may leave --role out and is an admin.
passwd, disable and remove end that user's sessions at once. Every change is in the audit trail (as "cli").
Accounts live in the catalog (recordings.catalogFile / DC_CATALOG_FILE), passwords as scrypt hashes.

Options:
  --config FILE          JSON config file (also DC_CONFIG)
  --role ROLE            admin, supervisor or agent
  --extensions LIST      comma separated; '' for none
  --password-file FILE   read the password from this file
  --json                 JSON instead of text (list)`,
  options: {
    config: { type: 'string' },
    role: { type: 'string' },
    extensions: { type: 'string' },
    'password-file': { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, name] = positionals;
    if (!sub || !(SUBS as readonly string[]).includes(sub))
      throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: ${SUBS.join(', ')})`);
    if (sub !== 'list' && !name) throw new UsageError(`${sub} needs a user NAME`);
    const role = roleOf(values);
    const cfg = loadConfig({ file: values.config as string | undefined });
    if (!cfg.recordings.databaseUrl) mkdirSync(dirname(cfg.recordings.catalogFile), { recursive: true });
    const c = await Catalog.open(catalogLocation(cfg));
    const audit = (action: AuditAction, detail?: string) =>
      c.audit.record({ actor: 'cli', action, target: name!, remote: `unix:${userInfo().username}`, detail });
    try {
      const extensions = values.extensions === undefined ? undefined : parseExtensions(values.extensions as string);
      switch (sub) {
        case 'list': {
          const list = await c.users.list();
          process.stdout.write(
            values.json
              ? `${JSON.stringify(list)}\n`
              : `${list.map((u) => `${u.username}  ${u.role}${u.extensions.length ? ` ${u.extensions.join(',')}` : ''}${u.disabled ? '  (disabled)' : ''}  ${u.createdAt}`).join('\n') || '(none)'}\n`,
          );
          return 0;
        }
        case 'remove':
          if (!(await c.users.remove(name!))) throw new UserError(`username: no user '${name}'`);
          await audit('user_remove');
          process.stdout.write(`removed ${name} (their sessions ended)\n`);
          return 0;
        case 'disable':
        case 'enable':
          await c.users.setDisabled(name!, sub === 'disable');
          await audit(sub === 'disable' ? 'user_disable' : 'user_enable');
          process.stdout.write(`${sub}d ${name}${sub === 'disable' ? ' (their sessions ended)' : ''}\n`);
          return 0;
        case 'set': {
          if (role === undefined && extensions === undefined) throw new UsageError('set needs --role and/or --extensions');
          const u = await c.users.set(name!, { role, extensions });
          await audit('user_set', `${u.role} ${u.extensions.join(',')}`);
          process.stdout.write(`${name}: ${u.role}${u.extensions.length ? `, extensions ${u.extensions.join(',')}` : ''}\n`);
          return 0;
        }
        case 'add': {
          const u = await c.users.add(name!, readPassword(values), { role, extensions });
          await audit('user_add', u.role);
          process.stdout.write(`added ${name} (${u.role}${u.extensions.length ? `, extensions ${u.extensions.join(',')}` : ''})\n`);
          return 0;
        }
        default: {
          await c.users.setPassword(name!, readPassword(values));
          await audit('user_password');
          process.stdout.write(`password changed for ${name} (their sessions ended)\n`);
          return 0;
        }
      }
    } catch (e) {
      if (e instanceof UserError) {
        process.stderr.write(`dialplan-companion users: ${e.message}\n`);
        return 1;
      }
      throw e;
    } finally {
      await c.close();
    }
  },
};
