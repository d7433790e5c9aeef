// Password guessing spread over two companions sharing one catalog: the failed-login counts are the catalog's,
// so 40 parallel wrong passwords sent half to each portal still get at most 5 password checks in all.
// On SQLite (one Catalog both portals use), and on PostgreSQL (two pools: two companions) in the PostgreSQL pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createLogger } from '../../src/log';
import { portalApp } from '../../src/portal/app';
import { Catalog } from '../../src/recordings';
import { loginAttempt } from '../support/portal-client';
import { BACKEND, catalogLocation } from '../support/pg';

const PASSWORD = 'correct horse battery';
const dir = mkdtempSync(join(tmpdir(), 'dc-throttle-shared-'));
const catalogs: Catalog[] = [];
const servers: Server[] = [];
const bases: string[] = [];

beforeAll(async () => {
  const location = await catalogLocation(dir);
  const first = await Catalog.open(location);
  catalogs.push(first);
  if (BACKEND === 'postgres') catalogs.push(await Catalog.open(location));
  await first.users.add('bob', PASSWORD, { role: 'admin' });
  for (const catalog of [catalogs[0]!, catalogs[catalogs.length - 1]!]) {
    const app = portalApp({
      host: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
      upload: { root: dir, tokens: [], maxBytes: 1024, register: () => Promise.reject(new Error('no')) },
      downloads: { catalog, root: dir, linkSecret: 'l'.repeat(32) },
      session: { secret: 's'.repeat(32), idleMs: 600_000, absoluteMs: 3600_000, secure: false, origins: [], trustProxy: [] },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    servers.push(server);
    bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const c of catalogs) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

test(`[${BACKEND}] 40 parallel wrong passwords over two portals: at most 5 checked in all, the rest 429; the owner from another address gets in on either`, async () => {
  const tries = await Promise.all(Array.from({ length: 40 }, (_, i) => loginAttempt(bases[i % 2]!, 'bob', `wrong guess ${i}`)));
  const statuses = tries.map((t) => t.status);
  expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
  expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  // What the audit trail holds: exactly as many failed logins as passwords were checked.
  expect((await catalogs[0]!.audit.list({ action: 'login_failed' })).length).toBe(statuses.filter((s) => s === 401).length);
  for (const base of bases) {
    expect((await loginAttempt(base, 'bob', PASSWORD)).status).toBe(429); // from the guessing address: blocked on both
    expect((await loginAttempt(base, 'bob', PASSWORD, { localAddress: '127.0.0.2' })).status).toBe(303);
  }
});
