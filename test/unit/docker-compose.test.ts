import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { ENV_SETTINGS } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    { build?: { context: string; dockerfile: string }; environment?: Record<string, string>; network_mode?: string; depends_on?: string[] }
  >;
};

test('docker-compose.yml: asterisk, companion and a mail catcher, wired by service name', () => {
  expect(Object.keys(compose.services).sort()).toEqual(['asterisk', 'companion', 'mailcatcher']);
  const known = new Set(ENV_SETTINGS.map((s) => s.env));
  for (const [name, svc] of Object.entries(compose.services)) {
    if (svc.build) {
      const dockerfile = join(ROOT, svc.build.context, svc.build.dockerfile);
      expect(existsSync(dockerfile)).toBe(true);
      // Every COPY source the Dockerfile names exists in the build context.
      for (const m of readFileSync(dockerfile, 'utf8').matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
        for (const src of m[1]!.split(/\s+/))
          expect([name, src, existsSync(join(ROOT, svc.build.context, src.replace(/\/\*\.conf$/, '')))]).toEqual([name, src, true]);
      }
    }
    for (const key of Object.keys(svc.environment ?? {})) expect([name, key, known.has(key)]).toEqual([name, key, true]);
    for (const dep of svc.depends_on ?? []) expect(compose.services[dep]).toBeDefined();
    const shared = svc.network_mode?.match(/^service:(.+)$/)?.[1];
    if (shared) expect(compose.services[shared]).toBeDefined();
  }
});

// No Docker engine runs on these machines; the compose CLI still validates the file.
const cli = ['docker-compose', 'docker'].find(
  (c) => spawnSync(c, c === 'docker' ? ['compose', 'version'] : ['version'], { stdio: 'ignore' }).status === 0,
);
(cli ? test : test.skip)(`docker compose config -q accepts the file (${cli ?? 'no compose CLI'})`, () => {
  const args = cli === 'docker' ? ['compose', 'config', '-q'] : ['config', '-q'];
  const r = spawnSync(cli!, args, { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
