// Who may hand the FastAGI door a recording: only the channel's own file, only from allowed addresses,
// and with agi.secret set only requests that carry it.
import { connect, type Socket } from 'node:net';
import { FastAgiServer, recordingDone } from '../../src/agi';
import { createLogger } from '../../src/log';
import type { FinishedCall } from '../../src/recordings';

async function withServer(
  opts: { allowFrom?: string[]; secret?: string },
  fn: (port: number, delivered: FinishedCall[], server: FastAgiServer) => Promise<void>,
) {
  const delivered: FinishedCall[] = [];
  const server = new FastAgiServer({
    log: createLogger('silent'),
    commandTimeoutMs: 1000,
    envTimeoutMs: 500,
    ...opts,
    scripts: { 'recording-done': recordingDone((c) => delivered.push(c)) },
  });
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    await fn(port, delivered, server);
  } finally {
    await server.close();
  }
}

/** Plays Asterisk: the environment, then every GET answered from `vars`, every SET with 200. */
function asterisk(port: number, env: Record<string, string>, vars: Record<string, string>): Promise<string[]> {
  return new Promise((resolve) => {
    const sets: string[] = [];
    const text =
      Object.entries(env)
        .map(([k, v]) => `agi_${k}: ${v}\n`)
        .join('') + '\n';
    const s: Socket = connect(port, '127.0.0.1', () => s.write(text));
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const cmd = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const get = /^GET FULL VARIABLE "\$\{(.+)\}"$/.exec(cmd);
        if (get) s.write(vars[get[1]!] !== undefined ? `200 result=1 (${vars[get[1]!]})\n` : '200 result=0\n');
        else {
          sets.push(cmd);
          s.write('200 result=1\n');
        }
      }
    });
    s.on('close', () => resolve(sets));
    s.on('error', () => resolve(sets));
  });
}

const UID = '1764579600.42';
const OWN = `/var/spool/asterisk/monitor/2026/12/01/20261201-090000-2125550100-4175551234-${UID}.wav`;

test("a file whose name does not carry the channel's uniqueid is refused; the channel's own is taken", async () => {
  await withServer({}, async (port, delivered) => {
    const env = { network_script: 'recording-done', uniqueid: UID, callerid: '2125550100', arg_1: '4175551234' };
    expect(await asterisk(port, env, { MIXMONITOR_FILENAME: '/var/spool/asterisk/monitor/2026/12/01/other-call.wav' })).toEqual([
      'SET VARIABLE "DC_RECORDING" "refused"',
    ]);
    expect(await asterisk(port, { ...env, uniqueid: '' }, { MIXMONITOR_FILENAME: OWN })).toEqual(['SET VARIABLE "DC_RECORDING" "refused"']);
    expect(delivered).toEqual([]);
    expect(await asterisk(port, env, { MIXMONITOR_FILENAME: OWN })).toEqual(['SET VARIABLE "DC_RECORDING" "queued"']);
    expect(delivered).toEqual([expect.objectContaining({ uniqueid: UID, file: OWN, ani: '2125550100', dnis: '4175551234' })]);
  });
});

test('a connection from an address not in allowFrom is dropped before it is read, and counted', async () => {
  await withServer({ allowFrom: ['127.0.0.2'] }, async (port, delivered, server) => {
    const sets = await asterisk(port, { network_script: 'recording-done', uniqueid: UID }, { MIXMONITOR_FILENAME: OWN });
    expect(sets).toEqual([]);
    expect(delivered).toEqual([]);
    expect(server.stats.refused).toBe(1);
  });
  await withServer({ allowFrom: ['::1', '127.0.0.1'] }, async (port, delivered) => {
    await asterisk(port, { network_script: 'recording-done', uniqueid: UID }, { MIXMONITOR_FILENAME: OWN });
    expect(delivered).toHaveLength(1);
  });
});

test('with agi.secret, a request without it or with a wrong one is refused; the right one is served', async () => {
  const secret = 'agi-shared-secret-0123456789';
  await withServer({ secret }, async (port, delivered, server) => {
    const base = { uniqueid: UID, network_script: 'recording-done' };
    expect(await asterisk(port, base, { MIXMONITOR_FILENAME: OWN })).toEqual([
      'SET VARIABLE "DC_AGI_ERROR" "refused: missing or wrong secret"',
    ]);
    expect(await asterisk(port, { ...base, network_script: 'recording-done?secret=guess' }, { MIXMONITOR_FILENAME: OWN })).toEqual([
      'SET VARIABLE "DC_AGI_ERROR" "refused: missing or wrong secret"',
    ]);
    expect(delivered).toEqual([]);
    expect(server.stats.refused).toBe(2);
    expect(await asterisk(port, { ...base, network_script: `recording-done?secret=${secret}` }, { MIXMONITOR_FILENAME: OWN })).toEqual([
      'SET VARIABLE "DC_RECORDING" "queued"',
    ]);
    expect(delivered).toHaveLength(1);
  });
});
