// A second, throw-away PBX for the admin's install path: an overlay on the sandbox chroot (a fresh root file
// system; writes go to a temporary upper layer), with /etc/asterisk put back to Debian's stock configuration
// and the few things any running PBX already has (phones, a way out), on other ports than the sandbox.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './sandbox';
import { waitFor } from '../../scripts/lib/wait';

const run = promisify(execFile);

export const STOCK_PORTS = { sip: 5160, ari: 8188, ami: 5138, rtpStart: 12000, rtpEnd: 12999 };

export interface StockPbx {
  /** The overlay's root (chroot into it). */
  root: string;
  /** Runs a shell script as root inside the PBX. */
  sh(script: string, env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running command inside the PBX (its output appended to logFile). */
  spawn(script: string, logFile: string): ChildProcess;
  close(): Promise<void>;
}

const CHROOT_ENV = ['/usr/bin/env', '-i', 'PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8'];

async function stockConfig(sandboxRoot: string, dest: string): Promise<void> {
  // The asterisk-config package as apt left it in the chroot's cache (Debian's files, untouched by us).
  const cache = join(sandboxRoot, 'var', 'cache', 'apt', 'archives');
  const deb = readdirSync(cache).find((f) => f.startsWith('asterisk-config_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`no asterisk-config .deb in ${cache}: the sandbox chroot was built without apt's cache`);
  await run('dpkg-deb', ['-x', join(cache, deb), dest]);
}

export async function startStockPbx(sandboxRoot: string): Promise<StockPbx> {
  const tmp = mkdtempSync('/tmp/dc-stock-pbx-');
  const [upper, work, root, stock] = ['upper', 'work', 'root', 'stock'].map((d) => join(tmp, d)) as [string, string, string, string];
  for (const d of [upper, work, root, stock]) mkdirSync(d);
  const mounts: string[] = [];
  const mount = async (args: string[], at: string) => {
    await run('mount', [...args, at]);
    mounts.unshift(at);
  };
  let asterisk: ChildProcess | undefined;
  const pbx: StockPbx = {
    root,
    async sh(script, env = {}) {
      const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      return run('chroot', [root, ...CHROOT_ENV, ...vars, '/bin/bash', '-euo', 'pipefail', '-c', script], {
        timeout: 120_000,
        maxBuffer: 16 << 20,
      });
    },
    spawn(script, logFile) {
      const out = spawn('chroot', [root, ...CHROOT_ENV, '/bin/sh', '-c', `exec ${script} >>${logFile} 2>&1`], {
        stdio: 'ignore',
        detached: true,
      });
      return out;
    },
    async close() {
      if (asterisk?.exitCode === null) {
        await pbx.sh("asterisk -rx 'core stop now'").catch(() => undefined);
        await waitFor('the stock Asterisk to stop', () => asterisk!.exitCode !== null, 10_000).catch(() => asterisk!.kill('SIGKILL'));
      }
      for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  try {
    await mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${sandboxRoot},upperdir=${upper},workdir=${work}`], root);
    await mount(['-t', 'proc', 'proc'], join(root, 'proc'));
    // The host's node: what an admin installs from Debian or NodeSource, without a download here.
    writeFileSync(join(root, 'usr', 'bin', 'node'), '');
    await mount(['--bind', process.execPath], join(root, 'usr', 'bin', 'node'));
    // Empty spool and run directories: the sandbox's recordings are not this PBX's.
    for (const d of ['var/spool/asterisk/monitor', 'run/asterisk']) await mount(['-t', 'tmpfs', '-o', 'mode=0750', 'tmpfs'], join(root, d));
    await pbx.sh('chown asterisk:asterisk /var/spool/asterisk/monitor /run/asterisk');

    await stockConfig(sandboxRoot, stock);
    rmSync(join(root, 'etc', 'asterisk'), { recursive: true, force: true });
    await run('cp', ['-a', join(stock, 'etc', 'asterisk'), join(root, 'etc', 'asterisk')]);
    const etc = join(root, 'etc', 'asterisk');
    const edit = (file: string, f: (s: string) => string) => writeFileSync(join(etc, file), f(readFileSync(join(etc, file), 'utf8')));
    // Other ports than the sandbox's.
    edit('http.conf', (s) => s.replace(/^;bindport=8088$/m, `bindport=${STOCK_PORTS.ari}`));
    edit('manager.conf', (s) => s.replace(/^port = 5038$/m, `port = ${STOCK_PORTS.ami}`));
    edit('rtp.conf', (s) =>
      s.replace(/^rtpstart=\d+$/m, `rtpstart=${STOCK_PORTS.rtpStart}`).replace(/^rtpend=\d+$/m, `rtpend=${STOCK_PORTS.rtpEnd}`),
    );
    // The channel drivers the sandbox leaves out (they would listen on 0.0.0.0), in [modules], where noload counts.
    const noload = readFileSync(join(REPO, 'asterisk-conf', 'modules.conf'), 'utf8').match(/^noload => .+$/gm) ?? [];
    edit('modules.conf', (s) => s.replace(/^autoload=yes$/m, `autoload=yes\n${noload.join('\n')}`));
    // What a running PBX already has: phones that call in (sipp, by address), and a way out (the fake PSTN).
    appendFileSync(
      join(etc, 'pjsip.conf'),
      `\n[transport-udp]\ntype=transport\nprotocol=udp\nbind=127.0.0.1:${STOCK_PORTS.sip}\n\n` +
        '[phone]\ntype=endpoint\ncontext=phones\ndisallow=all\nallow=ulaw\ndirect_media=no\nrtp_symmetric=yes\n\n' +
        '[phone-by-address]\ntype=identify\nendpoint=phone\nmatch=127.0.0.1\n',
    );
    appendFileSync(join(etc, 'extensions.conf'), '\n[phones]\n\n[outbound]\ninclude => fake-pstn\n\n#include fake-pstn.conf\n');
    await run('cp', [join(REPO, 'dialplan', 'fake-pstn.conf'), etc]);
    await pbx.sh('chown -R asterisk:asterisk /etc/asterisk');

    const log = '/var/log/asterisk/stock-console.log';
    asterisk = pbx.spawn('/usr/sbin/asterisk -f -U asterisk -G asterisk', log);
    await waitFor(
      'the stock Asterisk to boot',
      async () => {
        if (asterisk!.exitCode !== null) throw new Error(`asterisk exited: ${readFileSync(join(root, log), 'utf8').slice(-2000)}`);
        return (await pbx.sh("asterisk -rx 'core waitfullybooted'").catch(() => ({ stdout: '' }))).stdout.includes('fully booted');
      },
      30_000,
      300,
    );
    if (!existsSync(join(etc, 'manager.d'))) throw new Error('stock manager.conf reads manager.d/, which is missing');
    return pbx;
  } catch (e) {
    await pbx.close();
    throw e;
  }
}
