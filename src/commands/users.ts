import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../config';
import { Catalog, UserError, MIN_PASSWORD } from '../recordings';
import { UsageError, type Command } from './command';

// Passwords come from a file or standard input, never from the command line (it shows up in ps and history).
function readPassword(values: Record<string, unknown>): string {
  const file = values['password-file'] as string | undefined;
  const text = file ? readFileSync(file, 'utf8') : process.stdin.isTTY ? '' : readFileSync(0, 'utf8');
  const pw = text.split(/\r?\n/)[0] ?? '';
  if (!pw) throw new UsageError(`give the password on standard input or with --password-file (at least ${MIN_PASSWORD} characters)`);
  return pw;
}

export const users: Command = {
  name: 'users',
  summary: 'manage recordings-portal accounts',
  usage:
    'dialplan-companion users add|passwd NAME [--password-file FILE]\n       dialplan-companion users list [--json]\n       dialplan-companion users remove NAME',
  help: `The password is read from --password-file or the first line of standard input, e.g.
  printf '%s\\n' "$PASSWORD" | dialplan-companion users add alice
Accounts live in the catalog (recordings.catalogFile / DC_CATALOG_FILE), passwords as scrypt hashes.

Options:
  --config FILE          JSON config file (also DC_CONFIG)
  --password-file FILE   read the password from this file
  --json                 JSON instead of text (list)`,
  options: { config: { type: 'string' }, 'password-file': { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals) {
    const [sub, name] = positionals;
    if (!sub || !['add', 'passwd', 'list', 'remove'].includes(sub))
      throw new UsageError(`unknown subcommand '${sub ?? ''}' (expected: add, passwd, list or remove)`);
    if (sub !== 'list' && !name) throw new UsageError(`${sub} needs a user NAME`);
    const cfg = loadConfig({ file: values.config as string | undefined });
    mkdirSync(dirname(cfg.recordings.catalogFile), { recursive: true });
    const c = new Catalog(cfg.recordings.catalogFile);
    try {
      if (sub === 'list') {
        const list = c.users.list();
        process.stdout.write(
          values.json ? `${JSON.stringify(list)}\n` : `${list.map((u) => `${u.username}  ${u.createdAt}`).join('\n') || '(none)'}\n`,
        );
        return 0;
      }
      if (sub === 'remove') {
        if (!c.users.remove(name!)) {
          process.stderr.write(`dialplan-companion users: no user '${name}'\n`);
          return 1;
        }
        process.stdout.write(`removed ${name}\n`);
        return 0;
      }
      const pw = readPassword(values);
      if (sub === 'add') await c.users.add(name!, pw);
      else await c.users.setPassword(name!, pw);
      process.stdout.write(`${sub === 'add' ? 'added' : 'password changed for'} ${name}\n`);
      return 0;
    } catch (e) {
      if (e instanceof UserError) {
        process.stderr.write(`dialplan-companion users: ${e.message}\n`);
        return 1;
      }
      throw e;
    } finally {
      c.close();
    }
  },
};
