// doctor with the shared backends: a PostgreSQL catalog and a bucket that answer pass, with where they are
// (never the password); a database that refuses the login, a bucket that does not exist and one that does
// not answer each fail by name. Real servers: Debian's PostgreSQL and s3rver, on loopback.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres';
import { startS3, type TestS3 } from '../../scripts/lib/s3-server';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
type Report = { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
let pg: TempPostgres;
let s3: TestS3;

beforeAll(async () => {
  pg = await startTempPostgres();
  s3 = await startS3();
}, 120_000);
afterAll(async () => {
  pg?.destroy();
  await s3?.destroy();
});

// Asynchronous: the bucket server answers from this process.
function doctor(env: Record<string, string>): Promise<Report> {
  return new Promise((resolve, reject) => {
    const c = spawn('node', [CLI, 'doctor', '--json'], {
      env: { ...process.env, DC_CATALOG_FILE: '/tmp/dc-doctor-backends/catalog.sqlite', DC_ARI_URL: 'http://127.0.0.1:1', ...env },
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('exit', () => {
      try {
        resolve(JSON.parse(out) as Report);
      } catch (e) {
        reject(new Error(`doctor printed no report: ${out} (${(e as Error).message})`));
      }
    });
  });
}
const check = (r: Report, name: string) => r.checks.find((c) => c.name === name);

test('PostgreSQL and the bucket pass with where they are; a refused login, a missing bucket and a dead endpoint fail by name', async () => {
  const good = await doctor({ DC_DATABASE_URL: pg.url, ...s3.env });
  expect(check(good, 'catalog')).toMatchObject({
    ok: true,
    detail: expect.stringMatching(/^postgres:\/\/dc@127\.0\.0\.1:\d+\/postgres \(PostgreSQL, schema up to date, writable/),
  });
  expect(JSON.stringify(good)).not.toContain(new URL(pg.url).password);
  expect(check(good, 'bucket')).toMatchObject({
    ok: true,
    detail: expect.stringContaining(`${s3.endpoint}/${s3.bucket} (answers, takes a write`),
  });

  const wrong = new URL(pg.url);
  wrong.password = 'not-the-password';
  const bad = await doctor({ DC_DATABASE_URL: wrong.toString(), ...s3.env, DC_S3_BUCKET: 'no-such-bucket' });
  expect(bad.ok).toBe(false);
  expect(check(bad, 'catalog')).toMatchObject({ ok: false, detail: expect.stringContaining('password authentication failed') });
  expect(JSON.stringify(bad)).not.toContain('not-the-password');
  expect(check(bad, 'bucket')).toMatchObject({ ok: false, detail: expect.stringContaining('/no-such-bucket') });

  const away = await doctor({ DC_DATABASE_URL: pg.url, ...s3.env, DC_S3_ENDPOINT: 'http://127.0.0.1:1' });
  expect(check(away, 'bucket')).toMatchObject({ ok: false, detail: expect.stringContaining('http://127.0.0.1:1/recordings') });
}, 120_000);
