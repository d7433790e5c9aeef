// The FastAGI wire format (Asterisk's res_agi): the channel's variables as "agi_name: value" lines ended by a
// blank line, then one command line from us and one reply line from Asterisk at a time.

/** The agi_* variables Asterisk sends when the AGI starts, keys without the "agi_" prefix. */
export type AgiEnvironment = Readonly<Record<string, string>>;

export interface AgiReply {
  /** 200 success, 510 unknown command, 511 dead channel, 520 usage error. */
  code: number;
  /** The result=... value (200 only). */
  result: string;
  /** The text in parentheses after the result, e.g. a variable's value. */
  data: string | undefined;
  /** The reply as received (for error messages). */
  raw: string;
}

export class AgiProtocolError extends Error {}

// A real environment is 20-30 lines plus the AGI's arguments (Asterisk allows 150); values are short.
export const MAX_ENV_LINES = 200;
export const MAX_LINE_BYTES = 8192;

/** One line of the environment block; undefined for the blank line that ends it. */
export function parseEnvLine(line: string): [string, string] | undefined {
  if (line === '') return undefined;
  const m = /^agi_([a-z0-9_]{1,64}): ?(.*)$/.exec(line);
  if (!m) throw new AgiProtocolError(`not an AGI environment line: ${JSON.stringify(line.slice(0, 80))}`);
  return [m[1]!, m[2]!];
}

/** "200 result=1 (value) endpos=..." and the error replies (510/511/520). */
export function parseReply(line: string): AgiReply {
  const m = /^(\d{3})[ -](.*)$/.exec(line);
  if (!m) throw new AgiProtocolError(`not an AGI reply: ${JSON.stringify(line.slice(0, 80))}`);
  const code = Number(m[1]);
  const rest = m[2]!;
  if (code !== 200) return { code, result: '', data: undefined, raw: line };
  const r = /^result=(-?\w*)(?: \((.*)\))?/.exec(rest);
  if (!r) throw new AgiProtocolError(`AGI reply without result=: ${JSON.stringify(line.slice(0, 80))}`);
  return { code, result: r[1]!, data: r[2], raw: line };
}

/** A command argument, quoted as res_agi's parser expects (spaces, quotes and backslashes escaped). */
export function quoteArg(value: string): string {
  if (/[\r\n]/.test(value)) throw new AgiProtocolError('an AGI argument cannot contain a line break');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The script's name and query from agi_network_script ("recording-done?route=crm"). */
export function scriptOf(env: AgiEnvironment): { name: string; query: URLSearchParams } {
  const raw = env.network_script ?? '';
  const q = raw.indexOf('?');
  const name = (q < 0 ? raw : raw.slice(0, q)).replace(/^\/+|\/+$/g, '');
  return { name, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** AGI arguments in order (agi_arg_1, agi_arg_2, ...). */
export function argsOf(env: AgiEnvironment): string[] {
  const out: string[] = [];
  for (let i = 1; env[`arg_${i}`] !== undefined; i++) out.push(env[`arg_${i}`]!);
  return out;
}
