import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AriConnection } from '../../src/ari';
import { createLogger } from '../../src/log';

// Asterisk while it boots: the HTTP server answers, ARI's API docs are not there yet. swagger-client
// (inside ari-client) used to throw from an HTTP callback here, killing the whole service.
test('ARI answering HTTP but not ready yet: logged and retried, never an uncaught exception', async () => {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    // The reachability probe gets a 200, swagger's own load a 503.
    if (hits % 2 === 1) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(503).end('starting');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('warn', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const conn = new AriConnection({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    username: 'u',
    password: 'p',
    app: 'a',
    reconnectMinMs: 50,
    reconnectMaxMs: 100,
    log,
  });
  void conn.start();
  const end = Date.now() + 5000;
  while (lines.filter((l) => l.msg === 'ARI unavailable, retrying').length < 3 && Date.now() < end)
    await new Promise((r) => setTimeout(r, 50));
  conn.stop();
  server.close();
  expect(lines.filter((l) => l.msg === 'ARI unavailable, retrying').length).toBeGreaterThanOrEqual(3);
  expect(conn.connected).toBe(false);
});

// What an admin reads in the journal when ari.conf and the companion disagree ("401 : undefined" said nothing).
test('a refused ARI login is logged naming the user and what to check', async () => {
  const server: Server = createServer((_req, res) =>
    res.writeHead(401, { 'www-authenticate': 'Basic realm="Asterisk REST Interface"' }).end(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('warn', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const conn = new AriConnection({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...{ username: 'pbx-admin', password: 'wrong', app: 'a', reconnectMinMs: 50, reconnectMaxMs: 100, log },
  });
  void conn.start();
  const end = Date.now() + 5000;
  while (!lines.some((l) => l.msg === 'ARI unavailable, retrying') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  conn.stop();
  server.close();
  expect(lines.find((l) => l.msg === 'ARI unavailable, retrying')?.reason).toBe(
    'Asterisk refused ARI user "pbx-admin" (401): check ari.username (DC_ARI_USER) and ari.password (DC_ARI_PASSWORD or DC_ARI_PASSWORD_FILE) against ari.conf',
  );
});
