// A real S3 API server on loopback for the tests, the benchmarks and trying the archive: s3rver (npm,
// file-backed, speaks the plain S3 API our client uses: Put/Get/Head/Delete, multipart, ranges). Chosen over
// Debian sid's moto_server because it needs no Python inside the chroot and starts in ~100 ms in-process.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  port: number;
  dir: string;
  /** The companion's environment for this bucket. */
  env: Record<string, string>;
  /** The bytes the server itself stored for a key (its own files on disk, not what a client reads back). */
  stored(key: string): Buffer | undefined;
  /** Stops answering (the port closes); start() brings the same bucket back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

// s3rver's own fixed credentials (it checks signatures against them).
const KEY = 'S3RVER';

export async function startS3(o: { bucket?: string; port?: number } = {}): Promise<TestS3> {
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'dc-s3-'));
  const bucket = o.bucket ?? 'recordings';
  let port = o.port ?? 0;
  let server: InstanceType<typeof S3rver> | undefined;
  const start = async () => {
    server = new S3rver({ port, address: '127.0.0.1', directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
    port = (await server.run()).port;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    port,
    dir,
    env: {
      DC_S3_ENDPOINT: endpoint,
      DC_S3_BUCKET: bucket,
      DC_S3_ACCESS_KEY_ID: KEY,
      DC_S3_SECRET_ACCESS_KEY: KEY,
      DC_S3_FORCE_PATH_STYLE: 'true',
      DC_S3_PREFIX: 'recordings/',
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
    start,
    stored(key) {
      const folder = dirname(join(dir, bucket, key));
      if (!existsSync(folder)) return undefined;
      const base = `${key.split('/').pop()!}.`;
      const f = readdirSync(folder).find((n) => n.startsWith(base) && n.endsWith('object'));
      return f ? readFileSync(join(folder, f)) : undefined;
    },
    async destroy() {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
