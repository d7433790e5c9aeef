import type { ParseArgsConfig } from 'node:util';

/** A CLI subcommand: its own options, help text and entry point. Exit code comes back from run(). */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Help text after the usage line: options and examples. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run(values: Record<string, string | boolean | (string | boolean)[] | undefined>, positionals: string[]): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}
