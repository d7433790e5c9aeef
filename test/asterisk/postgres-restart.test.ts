// The catalog's PostgreSQL restarted while calls are up, and while new calls come in: the calls go on (a
// write-ahead row waits at most 2 s), the service reconnects, and every call, also those that started and
// ended while the database was away, is catalogued once and delivered. Real parts: the sandbox Asterisk, sipp,
// Debian's PostgreSQL, a webhook receiver on loopback.
import { runSipp } from '../../scripts/lib/sipp-caller';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres';
import { startWithReceivers, type DeliveryFixture } from '../support/delivery-fixture';
import { ariGet, waitFor } from '../support/sandbox';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const SECRET = 'pg-restart-secret-0123456789abcdef';
let pg: TempPostgres;
let fx: DeliveryFixture;
const dir = mkdtempSync(join(tmpdir(), 'dc-pg-restart-'));

beforeAll(async () => {
  pg = await startTempPostgres();
  fx = await startWithReceivers(
    SECRET,
    'pg@example.test',
    { DC_DATABASE_URL: pg.url, DC_CATALOG_FILE: join(dir, 'catalog.sqlite'), DC_RECOVER_EVERY_MS: '3000' },
    { connected: true },
  );
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('PostgreSQL restarted with 10 calls up and 5 more placed meanwhile: all 15 catalogued once and delivered', async () => {
  const { svc, rx } = fx;
  const ANI = '3125553003';
  const up = runSipp({ dial: '*1234175551234', ani: ANI, talkMs: 9000, calls: 10, concurrent: 10, rate: 10, localPort: 5940 });
  await waitFor(
    '10 calls bridged',
    async () =>
      (await ariGet<{ id: string; channels: string[] }[]>('/bridges')).filter((b) => b.id.endsWith('-bridge') && b.channels.length === 2)
        .length === 10,
    30_000,
    200,
  );
  pg.stop('fast');
  // New calls while the database is away: their rows cannot be written ahead; they are dialled anyway.
  const during = runSipp({ dial: '*1234175551234', ani: ANI, talkMs: 2000, calls: 5, concurrent: 5, rate: 10, localPort: 5960 });
  await new Promise((r) => setTimeout(r, 4000));
  pg.start();
  for (const r of await Promise.all([up, during])) expect(r).toMatchObject({ failed: 0 });
  expect(svc.logs.some((l) => l.msg === 'call not written ahead in the catalog (the hangup will still catalogue it)')).toBe(true);

  const recs = await waitFor(
    '15 calls catalogued and delivered',
    async () => {
      const r = await svc.catalog.listRecordings({ ani: ANI, limit: 100 });
      return r.length === 15 && r.every((x) => x.state === 'complete' && rx.delivered.has(`${x.id}:webhook`)) ? r : undefined;
    },
    90_000,
    500,
  );
  expect(new Set(recs.map((r) => r.uniqueid)).size).toBe(15);
  expect(await svc.catalog.openRecordings()).toEqual([]);
  const keys = new Set(recs.map((r) => `${r.id}:webhook`));
  expect(rx.hits.filter((h) => h.metadata.ani === ANI).every((h) => h.signatureValid && keys.has(h.idempotencyKey))).toBe(true);
}, 240_000);
