#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from './config';
import { UsageError, type Command } from './commands/command';
import { serve } from './commands/serve';
import { doctor } from './commands/doctor';
import { cpa } from './commands/cpa';
import { recordings, deliveries } from './commands/recordings';
import { users } from './commands/users';
import { outages } from './commands/outages';
import { audit } from './commands/audit';
import { catalog } from './commands/catalog';

const COMMANDS: Command[] = [serve, doctor, cpa, recordings, deliveries, users, outages, audit, catalog];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: dialplan-companion <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'dialplan-companion <command> --help' for a command's options.
`;
}

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary}\n\n${c.help}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`dialplan-companion: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: cmd.options,
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
    return await cmd.run(values, positionals);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dialplan-companion ${cmd.name}: ${e.message}\n`);
      return 78; // EX_CONFIG
    }
    const code = (e as { code?: string }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`dialplan-companion ${cmd.name}: ${(e as Error).message}\n\n${commandHelp(cmd)}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  // `... | head`: the reader went away; stop quietly like other Unix tools instead of an EPIPE stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`dialplan-companion: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
