// The portal's own limits: a client that sends its headers slowly is cut off at headersTimeoutMs (Node
// checked only every 30 s before), and dates that do not exist are refused in a search.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPortal } from '../../src/portal';
import { Catalog } from '../../src/recordings';
import { createLogger } from '../../src/log';
import { searchQuery } from '../../src/portal/pages';

test('a slow-header connection is closed within about headersTimeoutMs, not 30 s later', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-portal-limits-'));
  const catalog = await Catalog.open(join(dir, 'c.sqlite'));
  const portal = await startPortal({
    host: '127.0.0.1',
    port: 0,
    log: createLogger('silent'),
    headersTimeoutMs: 1000,
    upload: { root: dir, tokens: [], maxBytes: 1024, register: () => Promise.reject(new Error('no')) },
    downloads: { catalog, root: dir, linkSecret: 'x'.repeat(32) },
    session: { secret: 's'.repeat(32), idleMs: 60_000, absoluteMs: 60_000, secure: false, origins: [], trustProxy: [] },
  });
  try {
    const port = Number(new URL(portal.url).port);
    const t0 = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      const drip = setInterval(() => s.write('X-Slow: 1\r\n'), 200); // headers that never end
      s.on('data', () => undefined);
      s.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      s.on('error', () => undefined);
    });
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(4000);
  } finally {
    const closed = new Promise((r) => portal.server.close(r));
    portal.server.closeAllConnections();
    await closed;
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search dates must exist: 2026-02-31 is refused, 2024-02-29 is taken', () => {
  expect(() => searchQuery({ from: '2026-02-31' })).toThrow('from: a date as YYYY-MM-DD');
  expect(() => searchQuery({ to: '2026-13-01' })).toThrow('to: a date as YYYY-MM-DD');
  expect(searchQuery({ from: '2024-02-29' }).query.since).toBe('2024-02-29T00:00:00.000Z');
});
