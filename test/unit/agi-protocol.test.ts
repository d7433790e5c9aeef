// The FastAGI wire format, and the server against a peer that speaks it line by line the way res_agi does.
import { connect, type Socket } from 'node:net';
import { FastAgiServer, parseEnvLine, parseReply, quoteArg, scriptOf, argsOf, AgiProtocolError, type AgiCall } from '../../src/agi';
import { createLogger } from '../../src/log';

test('replies: result, data in parentheses (which may hold parentheses), error codes', () => {
  expect(parseReply('200 result=1 (/var/spool/asterisk/monitor/a (1).wav)')).toMatchObject({
    code: 200,
    result: '1',
    data: '/var/spool/asterisk/monitor/a (1).wav',
  });
  expect(parseReply('200 result=0')).toMatchObject({ code: 200, result: '0', data: undefined });
  expect(parseReply('200 result=-1 endpos=0')).toMatchObject({ code: 200, result: '-1' });
  expect(parseReply('510 Invalid or unknown command')).toMatchObject({ code: 510 });
  expect(parseReply('511 Command Not Permitted on a dead channel or intercept routine')).toMatchObject({ code: 511 });
  expect(() => parseReply('hello')).toThrow(AgiProtocolError);
  expect(() => parseReply('200 ok')).toThrow(/without result=/);
});

test('environment lines, script name and arguments; quoting', () => {
  expect(parseEnvLine('agi_callerid: 2125550100')).toEqual(['callerid', '2125550100']);
  expect(parseEnvLine('agi_arg_1: ')).toEqual(['arg_1', '']);
  expect(parseEnvLine('')).toBeUndefined();
  expect(() => parseEnvLine('GET / HTTP/1.1')).toThrow(AgiProtocolError);
  const env = { network_script: 'recording-done?route=crm', arg_1: '4175551234', arg_2: 'x' };
  expect(scriptOf(env).name).toBe('recording-done');
  expect(scriptOf(env).query.get('route')).toBe('crm');
  expect(argsOf(env)).toEqual(['4175551234', 'x']);
  expect(quoteArg('say "hi" \\ now')).toBe('"say \\"hi\\" \\\\ now"');
  expect(() => quoteArg('a\nHANGUP')).toThrow(AgiProtocolError);
});

describe('server', () => {
  let server: FastAgiServer;
  let port: number;
  const seen: { args: string[]; file?: string; hungUp: boolean; error?: string }[] = [];
  beforeAll(async () => {
    server = new FastAgiServer({
      log: createLogger('silent'),
      commandTimeoutMs: 1000,
      envTimeoutMs: 500,
      scripts: {
        probe: async (agi: AgiCall) => {
          const file = await agi.get('MIXMONITOR_FILENAME');
          const usage = await agi.command('SET VARIABLE');
          const entry: (typeof seen)[number] = { args: agi.args, file, hungUp: agi.hungUp };
          seen.push(entry);
          if (usage.code !== 520) entry.error = `expected 520, got ${usage.raw}`;
          await agi.set('DC_RECORDING', 'queued');
        },
      },
    });
    port = (await server.listen('127.0.0.1', 0)).port;
  });
  afterAll(() => server.close());

  /** A peer playing Asterisk: sends the environment, then answers each command with the next scripted reply. */
  function asterisk(envText: string, replies: string[]): Promise<string[]> {
    return new Promise((resolve) => {
      const commands: string[] = [];
      const s: Socket = connect(port, '127.0.0.1', () => s.write(envText));
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          commands.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          s.write(replies.shift() ?? '510 Invalid or unknown command\n');
        }
      });
      s.on('close', () => resolve(commands));
      s.on('error', () => undefined);
    });
  }

  test('commands and replies in turn; a HANGUP between replies and a multi-line 520 are understood', async () => {
    const env = 'agi_network: yes\nagi_network_script: probe\nagi_uniqueid: 1700000000.1\nagi_arg_1: 4175551234\n\n';
    const commands = await asterisk(env, [
      'HANGUP\n200 result=1 (/var/spool/asterisk/monitor/x.wav)\n',
      '520-Invalid command syntax.  Proper usage follows:\nUsage: SET VARIABLE <variablename> <value>\n520 End of proper usage.\n',
      '200 result=1\n',
    ]);
    expect(commands).toEqual(['GET FULL VARIABLE "${MIXMONITOR_FILENAME}"', 'SET VARIABLE', 'SET VARIABLE "DC_RECORDING" "queued"']);
    expect(seen.at(-1)).toEqual({ args: ['4175551234'], file: '/var/spool/asterisk/monitor/x.wav', hungUp: true });
  });

  test('an unknown script is told so in a channel variable; a silent peer and half an environment time out', async () => {
    const before = { ...server.stats };
    const commands = await asterisk('agi_network_script: nope\n\n', ['200 result=1\n', '200 result=1\n']);
    expect(commands[0]).toBe('SET VARIABLE "DC_AGI_ERROR" "unknown script \'nope\'"');
    const t0 = Date.now();
    await asterisk('agi_network_script: probe\n', []); // no blank line: never complete
    expect(Date.now() - t0).toBeLessThan(2000);
    await asterisk('agi_network_script: probe\n\n', ['']); // never answers the first command
    expect(server.stats.unknownScripts - before.unknownScripts).toBe(1);
    expect(server.stats.protocolErrors - before.protocolErrors).toBe(1);
    expect(server.stats.scriptErrors - before.scriptErrors).toBe(1);
  });
});
