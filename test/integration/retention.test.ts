// Retention through the running service: old audio whose deliveries are finished is deleted at start-up,
// the catalog row stays; audio still waiting for a delivery, and recent audio, are kept.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Catalog, type Recording } from '../../src/recordings';
import { encodeWav } from '../../src/media';
import { Signal } from '../../scripts/lib/signals';
import { startTestService } from '../support/service';
import { catalogEnv, catalogLocation } from '../support/pg';
import { waitFor } from '../support/sandbox';

test('audio older than retentionDays with finished deliveries is deleted; pending or recent audio stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-retention-'));
  const root = join(dir, 'recordings');
  const catalogFile = await catalogLocation(dir);
  mkdirSync(join(root, 'calls'), { recursive: true });
  const catalog = await Catalog.open(catalogFile);
  const wav = encodeWav(new Signal().speech(1000).noise(-50).pcm(), 8000);
  const DAY = 86_400_000;
  const add = async (name: string, ageDays: number, deliveryStatus: 'delivered' | 'dead' | 'pending' | null): Promise<Recording> => {
    writeFileSync(join(root, 'calls', `${name}.wav`), wav);
    const rec = await catalog.addRecording(
      {
        uniqueid: name,
        ani: '2125550100',
        dnis: '4175551234',
        durationMs: 1000,
        path: `calls/${name}.wav`,
        format: 'wav',
        sizeBytes: wav.length,
        sha256: createHash('sha256').update(wav).digest('hex'),
        source: 'upload',
      },
      deliveryStatus ? [{ route: 'crm', kind: 'webhook', target: 'http://127.0.0.1:1/x' }] : [],
      Date.now() - ageDays * DAY,
    );
    // Claimed first, as the outbox does: an outcome is recorded only under the claim's lease.
    const [d] = deliveryStatus && deliveryStatus !== 'pending' ? await catalog.claimDue(1, 60_000) : [];
    if (d) await catalog.finishAttempt(d, { outcome: deliveryStatus === 'delivered' ? 'delivered' : 'dead', durationMs: 1 });
    return rec;
  };
  const oldDelivered = await add('old-delivered', 40, 'delivered');
  const oldDead = await add('old-dead', 40, 'dead');
  const oldNoRoute = await add('old-no-route', 40, null);
  const recent = await add('recent', 5, 'delivered');
  const oldPending = await add('old-pending', 40, 'pending'); // last: the claims above must not take it
  await catalog.close();

  const svc = await startTestService('/nonexistent', {
    DC_RECORDINGS_LOCAL_DIR: root,
    ...catalogEnv(catalogFile, dir),
    DC_ARI_URL: 'http://127.0.0.1:1',
    DC_CPA_ENABLED: 'false',
    DC_RETENTION_DAYS: '30',
    DC_MONITOR_ENABLED: 'false',
  });
  try {
    // The sweep runs at start-up, beside the service (on PostgreSQL its queries take real round trips).
    await waitFor('the start-up retention sweep', async () => (await svc.catalog.getRecording(oldNoRoute.id))?.purgedAt, 10_000);
    const gone = [oldDelivered, oldDead, oldNoRoute];
    for (const r of gone) {
      expect([r.path, existsSync(join(root, r.path))]).toEqual([r.path, false]);
      expect((await svc.catalog.getRecording(r.id))!.purgedAt).not.toBeNull();
    }
    for (const r of [oldPending, recent]) {
      expect([r.path, existsSync(join(root, r.path))]).toEqual([r.path, true]);
      expect((await svc.catalog.getRecording(r.id))!.purgedAt).toBeNull();
    }
    // The row and its metadata remain searchable.
    expect(await svc.catalog.listRecordings({ limit: 10 })).toHaveLength(5);
  } finally {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
