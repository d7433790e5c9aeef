import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { ENV_SETTINGS } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      build?: { context: string; dockerfile: string };
      environment?: Record<string, string>;
      network_mode?: string;
      depends_on?: string[] | Record<string, unknown>;
    }
  >;
};

test('docker-compose.yml: asterisk, the companion (embedded or on PostgreSQL + MinIO), a mail catcher, wired by service name', () => {
  expect(Object.keys(compose.services).sort()).toEqual([
    'asterisk',
    'bucket-setup',
    'companion',
    'companion-shared',
    'mailcatcher',
    'minio',
    'postgres',
  ]);
  const shared = compose.services['companion-shared']!.environment!;
  expect(shared.DC_DATABASE_URL).toMatch(/^postgres:\/\/companion:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/companion$/);
  expect(shared.DC_S3_ENDPOINT).toBe('http://minio:9000');
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
    // The companion's settings are ours (a typo would be ignored silently); the images' own are theirs.
    for (const key of Object.keys(svc.environment ?? {}).filter((k) => k.startsWith('DC_')))
      expect([name, key, known.has(key)]).toEqual([name, key, true]);
    const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
    for (const dep of deps) expect([name, dep, !!compose.services[dep]]).toEqual([name, dep, true]);
    const shared = svc.network_mode?.match(/^service:(.+)$/)?.[1];
    if (shared) expect(compose.services[shared]).toBeDefined();
  }
});

// No Docker engine runs on these machines; the compose CLI still validates the file.
const cli = ['docker-compose', 'docker'].find(
  (c) => spawnSync(c, c === 'docker' ? ['compose', 'version'] : ['version'], { stdio: 'ignore' }).status === 0,
);
(cli ? test : test.skip)(
  `docker compose config -q accepts the file, and refuses it without the passwords (${cli ?? 'no compose CLI'})`,
  () => {
    const args = cli === 'docker' ? ['compose', 'config', '-q'] : ['config', '-q'];
    const secrets = { POSTGRES_PASSWORD: 'p'.repeat(16), MINIO_ROOT_USER: 'companion', MINIO_ROOT_PASSWORD: 'm'.repeat(16) };
    const r = spawnSync(cli!, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...secrets } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const env = { ...process.env };
    for (const k of Object.keys(secrets)) delete env[k];
    const none = spawnSync(cli!, args, { cwd: ROOT, encoding: 'utf8', env });
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/set (POSTGRES_PASSWORD|MINIO_ROOT_USER|MINIO_ROOT_PASSWORD)/);
  },
);
