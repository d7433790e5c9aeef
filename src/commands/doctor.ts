import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { loadConfig, SANDBOX_ARI_PASSWORD } from '../config';
import { resolveFfmpeg } from '../transport';
import { bucketOf, routesOf, sharedNode } from '../config';
import { Bucket, Catalog, redactUrl } from '../recordings';
import { amiAction, amiList, type AmiOptions } from '../ami';
import type { Command } from './command';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** A warning does not fail the doctor. */
  warn?: boolean;
}

/** One ARI GET with the configured credentials, bounded to 3 s. */
function ariRequest(url: string, path: string, user: string, pass: string): Promise<Response> {
  return fetch(new URL(path, url), {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
    signal: AbortSignal.timeout(3000),
  });
}

/** The ARI check, and Asterisk's systemname from the same answer (undefined when ARI did not answer). */
async function checkAri(url: string, user: string, pass: string): Promise<{ check: Check; systemName?: string }> {
  try {
    const res = await ariRequest(url, '/ari/asterisk/info', user, pass);
    if (res.status === 401)
      return {
        check: {
          name: 'ARI',
          ok: false,
          detail: `${url}: user "${user}" refused (401): check ari.username (DC_ARI_USER) and ari.password against ari.conf`,
        },
      };
    if (!res.ok) return { check: { name: 'ARI', ok: false, detail: `${url}: HTTP ${res.status}` } };
    const info = (await res.json()) as { system?: { version?: string }; config?: { name?: string } };
    return {
      check: { name: 'ARI', ok: true, detail: `${url}: Asterisk ${info.system?.version ?? '?'}` },
      systemName: info.config?.name ?? '',
    };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    return { check: { name: 'ARI', ok: false, detail: `${url}: ${cause} (is Asterisk running with http.conf enabled?)` } };
  }
}

/**
 * With a shared catalog, calls are told apart by uniqueid: two PBXs without a systemname (asterisk.conf) can
 * give two calls the same one ("1733059200.42"), and the second recording would be taken for the first's.
 */
function checkSystemName(name: string | undefined): Check {
  if (name === undefined)
    return { name: 'Asterisk systemname', ok: true, warn: true, detail: 'not readable: ARI did not answer (see ARI)' };
  return name
    ? { name: 'Asterisk systemname', ok: true, detail: `${name}: uniqueids are "${name}-..." in the shared catalog` }
    : {
        name: 'Asterisk systemname',
        ok: true,
        warn: true,
        detail:
          'not set: with several PBXs sharing the catalog, set systemname in asterisk.conf [options] on each (one may go without), or two calls can get the same uniqueid',
      };
}

/** The endpoint DC_DIAL_ENDPOINT dials through, asked of ARI (PJSIP/${NUMBER}@trunk -> PJSIP/trunk). */
async function checkDialEndpoint(endpoint: string, url: string, user: string, pass: string): Promise<Check> {
  const name = 'dial endpoint';
  const m = /^([A-Za-z0-9_]+)\/(?:\$\{NUMBER\}@([^/@]+)|([^/$]+)\/)/.exec(endpoint);
  if (!m || m[1] === 'Local')
    return { name, ok: true, detail: `${endpoint} (not checked: ${m?.[1] === 'Local' ? 'a dialplan context' : 'no endpoint name in it'})` };
  const [tech, resource] = [m[1]!, (m[2] ?? m[3])!];
  try {
    const res = await ariRequest(url, `/ari/endpoints/${encodeURIComponent(tech)}/${encodeURIComponent(resource)}`, user, pass);
    if (res.status === 404)
      return {
        name,
        ok: false,
        detail: `${endpoint}: Asterisk has no endpoint ${tech}/${resource} (pjsip.conf); calls would be answered, then hung up`,
      };
    if (!res.ok) return { name, ok: false, detail: `${endpoint}: ARI answered ${res.status} for ${tech}/${resource}` };
    const ep = (await res.json()) as { state?: string };
    return { name, ok: true, detail: `${endpoint}: ${tech}/${resource} exists (${ep.state ?? 'state unknown'})` };
  } catch (e) {
    return { name, ok: false, detail: `${endpoint}: could not ask ARI (${(e as Error).message})` };
  }
}

/** AMI, which the recording keys (*1/*2/*3) need: a manager.conf user that logs in. */
async function checkAmi(o: { host: string; port: number; username: string; secret: string }): Promise<Check> {
  const name = 'AMI';
  try {
    await amiAction({ ...o, timeoutMs: 3000 }, { Action: 'Ping' });
    return { name, ok: true, detail: `${o.host}:${o.port}: user "${o.username}" logged in` };
  } catch (e) {
    return {
      name,
      ok: false,
      detail: `${o.host}:${o.port} as "${o.username}": ${(e as Error).message} (the recording keys need a manager.conf user: see asterisk-conf/manager.conf, or set DC_RECORDING_KEYS_PAUSE/_RESUME/_STOP to '')`,
    };
  }
}

/** A context as AMI lists it: its priorities and includes ([] when Asterisk has no such context). */
async function contextLines(ami: AmiOptions, context: string): Promise<{ app: string; data: string }[]> {
  try {
    const ev = await amiList(ami, { Action: 'ShowDialPlan', Context: context });
    return ev.map((e) => ({ app: e.Application ?? (e.IncludeContext ? 'include' : ''), data: e.AppData ?? e.IncludeContext ?? '' }));
  } catch (e) {
    if (/did not find context/i.test((e as Error).message)) return [];
    throw e;
  }
}

/**
 * The snippet as Asterisk loaded it, read back through AMI: that it is there, that *123 enters our Stasis
 * app, that the FastAGI URL *124 hands recordings to reaches our port, and that the context *124 dials
 * through exists (plain Asterisk has no from-internal).
 */
async function checkDialplan(ami: AmiOptions, want: { app: string; agi?: { host: string; port: number } }): Promise<Check[]> {
  const name = 'dialplan';
  let settings, custom;
  try {
    [settings, custom] = await Promise.all([contextLines(ami, 'dialplan-companion-settings'), contextLines(ami, 'from-internal-custom')]);
  } catch (e) {
    const m = (e as Error).message;
    return [
      {
        name,
        ok: true,
        warn: true,
        detail: `not read through AMI (${m}${/permission/i.test(m) ? ': the AMI user needs write=reporting' : ''})`,
      },
    ];
  }
  if (!settings.length)
    return [
      {
        name,
        ok: false,
        detail:
          'the snippet is not loaded (no context dialplan-companion-settings): copy dialplan/extensions_custom.conf to /etc/asterisk, #include it, dialplan reload',
      },
    ];
  const out: Check[] = [];
  const stasis = custom.find((l) => l.app === 'Stasis');
  const app = stasis?.data.split(',')[0];
  out.push(
    app === want.app
      ? { name: 'dialplan *123', ok: true, detail: `enters Stasis(${app})` }
      : {
          name: 'dialplan *123',
          ok: false,
          detail: stasis
            ? `enters Stasis(${app ?? ''}) but the companion's ARI app is "${want.app}" (ari.app / DC_ARI_APP)`
            : 'no Stasis() in from-internal-custom',
        },
  );
  const setting = async (v: string): Promise<string> => {
    const global = (await amiAction(ami, { Action: 'Getvar', Variable: v }).catch(() => ({}) as Record<string, string>)).Value;
    if (global) return global;
    const line = settings.find((l) => l.data.includes(`Set(${v}=`));
    return /Set\([A-Z_]+=([^)]*)\)/.exec(line?.data ?? '')?.[1] ?? '';
  };
  const [agiUrl, dialContext] = await Promise.all([setting('DC_AGI_URL'), setting('DC_DIAL_CONTEXT')]);
  if (want.agi) {
    const u = /^agi:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(agiUrl);
    const port = u ? Number(u[2] ?? 4573) : NaN;
    const host = u?.[1]?.replace(/^\[|\]$/g, '');
    const anyHost = ['0.0.0.0', '::'].includes(want.agi.host);
    out.push(
      u && port === want.agi.port && (anyHost || host === want.agi.host || (host === 'localhost' && want.agi.host === '127.0.0.1'))
        ? { name: 'dialplan *124', ok: true, detail: `hands recordings to ${agiUrl}` }
        : {
            name: 'dialplan *124',
            ok: false,
            detail: `DC_AGI_URL is "${agiUrl}" but the FastAGI door listens on ${want.agi.host}:${want.agi.port} (agi.host/agi.port): *124 recordings would never be catalogued`,
          },
    );
  }
  const dialLines = dialContext ? await contextLines(ami, dialContext).catch(() => undefined) : [];
  out.push(
    dialLines === undefined || dialLines.length
      ? { name: 'dialplan *124 route', ok: true, detail: `dials through ${dialContext}` }
      : {
          name: 'dialplan *124 route',
          ok: false,
          detail: `DC_DIAL_CONTEXT is "${dialContext}", a context this Asterisk does not have (plain Asterisk has no from-internal): set it to the context your phones dial out through`,
        },
  );
  return out;
}

function checkDir(name: string, dir: string): Check {
  try {
    if (!statSync(dir).isDirectory()) return { name, ok: false, detail: `${dir} is not a directory` };
    accessSync(dir, constants.R_OK);
    return { name, ok: true, detail: `${dir} readable` };
  } catch (e) {
    return { name, ok: false, detail: `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check the configuration and everything the service talks to',
  usage: 'dialplan-companion doctor [--config FILE] [--json]',
  help: `Options:
  --config FILE   JSON config file (also DC_CONFIG)
  --json          one JSON object instead of text
Exit code 0 when every check passes, 1 otherwise.`,
  options: { config: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const checks: Check[] = [];
    let cfg;
    try {
      cfg = loadConfig({ file: values.config as string | undefined });
      checks.push({ name: 'config', ok: true, detail: 'valid' });
    } catch (e) {
      checks.push({ name: 'config', ok: false, detail: (e as Error).message });
    }
    if (cfg) {
      if (cfg.ari.password === SANDBOX_ARI_PASSWORD) {
        checks.push({
          name: 'ARI password',
          ok: true,
          warn: true,
          detail: 'the public sandbox password is in use: fine for the sandbox, never for a real PBX',
        });
      }
      const ari = await checkAri(cfg.ari.url, cfg.ari.username, cfg.ari.password);
      checks.push(ari.check);
      if (cfg.recordings.databaseUrl) checks.push(checkSystemName(ari.systemName));
      checks.push(await checkDialEndpoint(cfg.dial.endpoint, cfg.ari.url, cfg.ari.username, cfg.ari.password));
      const k = cfg.recordingKeys;
      const amiCheck = await checkAmi(cfg.ami);
      const keysOn = Boolean(k.pause || k.resume || k.stop);
      // Without the recording keys AMI is only how doctor reads the dialplan back: not a failure.
      checks.push(keysOn || amiCheck.ok ? amiCheck : { ...amiCheck, ok: true, warn: true });
      if (amiCheck.ok)
        checks.push(
          ...(await checkDialplan(
            { ...cfg.ami, timeoutMs: 3000 },
            { app: cfg.ari.app, agi: cfg.agi.enabled ? { host: cfg.agi.host, port: cfg.agi.port } : undefined },
          )),
        );
      checks.push(checkDir('recordings dir', cfg.recordings.localDir));
      try {
        const ff = resolveFfmpeg();
        const v = execFileSync(ff.path, ['-version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0];
        checks.push({ name: 'ffmpeg', ok: true, detail: `${ff.path} (${ff.from}): ${v}` });
      } catch (e) {
        checks.push({ name: 'ffmpeg', ok: false, detail: (e as Error).message });
      }
      let c: Catalog | undefined;
      if (cfg.recordings.databaseUrl) {
        const where = redactUrl(cfg.recordings.databaseUrl);
        try {
          c = await Catalog.open(cfg.recordings.databaseUrl);
          await c.checkWritable();
          checks.push({
            name: 'catalog',
            ok: true,
            detail: `${where} (PostgreSQL, schema up to date, writable; instance ${cfg.instance})`,
          });
        } catch (e) {
          checks.push({ name: 'catalog', ok: false, detail: `${where}: ${(e as Error).message}` });
          await c?.close().catch(() => undefined);
          c = undefined;
        }
      } else {
        try {
          accessSync(dirname(cfg.recordings.catalogFile), constants.W_OK);
          checks.push({ name: 'catalog', ok: true, detail: `${cfg.recordings.catalogFile} (directory writable)` });
        } catch (e) {
          checks.push({
            name: 'catalog',
            ok: false,
            detail: `${dirname(cfg.recordings.catalogFile)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          });
        }
        if (existsSync(cfg.recordings.catalogFile)) c = await Catalog.open(cfg.recordings.catalogFile);
      }
      const bs = bucketOf(cfg);
      if (bs) {
        const b = new Bucket(bs);
        try {
          await b.check();
          checks.push({
            name: 'bucket',
            ok: true,
            detail: `${b.where} (answers, takes a write; keys under '${bs.prefix}'; local copies ${cfg.recordings.keepLocal ? 'kept' : 'removed once archived and delivered'})`,
          });
        } catch (e) {
          checks.push({ name: 'bucket', ok: false, detail: `${b.where}: ${(e as Error).message}` });
        } finally {
          b.close();
        }
      }
      if (c) {
        const n = (await c.users.list()).length;
        const open = await c.outages.ongoing(sharedNode(cfg));
        const unfinished = (await c.openRecordings(10_000, sharedNode(cfg))).length;
        await c.close();
        checks.push({
          name: 'portal accounts',
          ok: true,
          warn: n === 0,
          detail: n ? `${n}` : 'none: nobody can log in to the portal (dialplan-companion users add NAME)',
        });
        checks.push({
          name: 'calls in progress or left by a crash',
          ok: true,
          detail: `${unfinished} written ahead, not finished (a running service finishes those whose calls ended)`,
        });
        checks.push({
          name: 'outages',
          ok: true,
          warn: open.length > 0,
          detail: open.length ? `ongoing: ${open.map((o) => `${o.target} since ${o.startedAt}`).join(', ')}` : 'none ongoing',
        });
      }
      const cp = cfg.cpa;
      checks.push({
        name: 'backpressure',
        ok: true,
        detail: cp.enabled
          ? `new calls skip the CPA tap above ${cp.maxConcurrentCalls || 'no limit of'} calls in progress or when ARI answers slower than ${cp.maxAriLatencyMs} ms (median); taps later than ${cp.maxTapLagMs} ms report unknown`
          : 'CPA is off',
      });
      const routes = routesOf(cfg);
      checks.push({
        name: 'delivery routes',
        ok: true,
        warn: routes.length === 0,
        detail: routes.length
          ? routes.map((r) => `${r.name} (${r.kind} ${r.kind === 'webhook' ? new URL(r.target).origin : r.target})`).join(', ')
          : 'none: recordings are catalogued but not delivered (set DC_WEBHOOK_URL or DC_EMAIL_TO)',
      });
    }
    const ok = checks.every((c) => c.ok);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ok, checks })}\n`);
    } else {
      for (const c of checks) process.stdout.write(`${c.ok ? (c.warn ? 'WARN' : ' ok ') : 'FAIL'}  ${c.name}: ${c.detail}\n`);
    }
    return ok ? 0 : 1;
  },
};
