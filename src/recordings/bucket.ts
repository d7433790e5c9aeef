import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

// The archive: an S3-compatible bucket (AWS, MinIO, Ceph RGW, Garage, ...) through the plain S3 API only
// (Put/Get/Head/Delete object, multipart upload, HeadBucket): nothing vendor-specific, so any of them works.

export interface BucketSettings {
  /** http(s)://host:port of the S3 API; absent: AWS's endpoint for the region. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Prepended to every key ("recordings/"). */
  prefix: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** bucket in the path (MinIO, Ceph, most self-hosted) instead of the host name. */
  forcePathStyle: boolean;
}

export class BucketError extends Error {
  override name = 'BucketError';
}

// Above this the upload is multipart (and each part is retried on its own); S3's minimum part size is 5 MiB.
const PART_BYTES = 8 * 1024 * 1024;

export class Bucket {
  private readonly s3: S3Client;
  /** The write check under way, shared by whoever asks meanwhile. */
  private checking: Promise<void> | undefined;
  constructor(readonly o: BucketSettings) {
    const cfg: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      endpoint: o.endpoint,
      // Retries are ours (the archiver's backoff): a bucket away for minutes must not hold a request that long.
      maxAttempts: 2,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK's own console warnings (one per failed streaming upload) would repeat on stderr for every retry
      // of a bucket outage; the archiver logs the outage once, with its cause.
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    if (o.accessKeyId && o.secretAccessKey) cfg.credentials = { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
    this.s3 = new S3Client(cfg);
  }

  /** Where a recording's object goes: prefix + the date path it had on disk + its id, one key per recording. */
  keyFor(rec: { id: string; path: string; format: string }): string {
    const dir = rec.path.includes('/') ? rec.path.slice(0, rec.path.lastIndexOf('/') + 1) : '';
    return `${this.o.prefix}${dir}${rec.id}.${rec.format}`;
  }

  /** Where the bucket is, for logs and doctor. */
  get where(): string {
    return `${this.o.endpoint ?? `s3.${this.o.region}.amazonaws.com`}/${this.o.bucket}`;
  }

  /**
   * Uploads a local file (multipart when large) and verifies what the bucket holds: its size, and the SHA-256
   * of the bytes read back, against the catalog's. Resolves once both match; rejects (BucketError) otherwise.
   */
  async put(key: string, file: string, expect: { size: number; sha256: string }, contentType: string): Promise<void> {
    const meta = { sha256: expect.sha256 };
    if (expect.size > PART_BYTES) {
      await new Upload({
        client: this.s3,
        partSize: PART_BYTES,
        queueSize: 2,
        params: { Bucket: this.o.bucket, Key: key, Body: createReadStream(file), ContentType: contentType, Metadata: meta },
      }).done();
    } else {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.o.bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: expect.size,
          ContentType: contentType,
          Metadata: meta,
        }),
      );
    }
    const head = await this.head(key);
    if (head?.size !== expect.size)
      throw new BucketError(`${key}: the bucket holds ${head?.size ?? 'nothing'} bytes, expected ${expect.size}`);
    const got = await this.sha256(key);
    if (got !== expect.sha256) throw new BucketError(`${key}: the bucket's copy has SHA-256 ${got}, the catalog's is ${expect.sha256}`);
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const r = await this.s3.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: key }));
      return { size: Number(r.ContentLength ?? 0) };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /** The object's bytes (a range of them: `start`..`end` inclusive), streamed. */
  async get(key: string, range?: { start: number; end: number }): Promise<{ body: Readable; size: number }> {
    const r = await this.s3.send(
      new GetObjectCommand({ Bucket: this.o.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
    );
    return { body: r.Body as Readable, size: Number(r.ContentLength ?? 0) };
  }

  /** Downloads the object to a local file (ffmpeg reads files). */
  async download(key: string, file: string): Promise<void> {
    const { body } = await this.get(key);
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  }

  async sha256(key: string): Promise<string> {
    const { body } = await this.get(key);
    const h = createHash('sha256');
    for await (const chunk of body) h.update(chunk as Buffer);
    return h.digest('hex');
  }

  /** Deletes the object; one that is already gone is not an error. */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }));
  }

  /**
   * Throws unless the bucket answers and takes a write (doctor, /readyz, the monitor). Callers that ask while a
   * check is under way share it: overlapping writes and deletes of the one probe object are pointless, and
   * crashed s3rver (a file-backed S3 server) in the tests.
   */
  check(): Promise<void> {
    this.checking ??= this.probe().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async probe(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.o.bucket }));
    const probe = `${this.o.prefix}.dc-write-probe`;
    await this.s3.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: probe, Body: 'ok', ContentLength: 2 }));
    await this.delete(probe);
  }

  close(): void {
    this.s3.destroy();
  }
}

function notFound(e: unknown): boolean {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x.name === 'NotFound' || x.name === 'NoSuchKey' || x.$metadata?.httpStatusCode === 404;
}
