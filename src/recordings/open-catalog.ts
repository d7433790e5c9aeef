import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Catalog } from './catalog';
import { isPostgresUrl, redactUrl } from './sql';

/** The catalog cannot be used: the reason names the directory and the system's error, never a guess. */
export class CatalogUnavailableError extends Error {
  override name = 'CatalogUnavailableError';
  readonly code = 'CATALOG_UNAVAILABLE';
}

const ERRNO: Record<string, string> = {
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a path component is not a directory',
};

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code && ERRNO[err.code] ? `${err.code} (${ERRNO[err.code]})` : (err.code ?? err.message);
}

/**
 * Opens the catalog for a service that will write to it. PostgreSQL: connected, migrated and not read-only.
 * SQLite: the directory is created, then proved writable by
 * writing and syncing 64 KiB (a read-only mount or a full disk fails here with its real reason, not later
 * as "ENOENT" or a half-started service).
 */
export async function openWritableCatalog(location: string, o: { onError?: (e: Error) => void } = {}): Promise<Catalog> {
  if (isPostgresUrl(location)) {
    try {
      const catalog = await Catalog.open(location, o);
      await catalog.checkWritable();
      return catalog;
    } catch (e) {
      throw new CatalogUnavailableError(`catalog ${redactUrl(location)} cannot be opened: ${(e as Error).message}`);
    }
  }
  const file = location;
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CatalogUnavailableError(`catalog directory ${dir} cannot be created: ${describe(e)}`);
  }
  const probe = join(dir, `.dc-write-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(64 * 1024));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new CatalogUnavailableError(`catalog directory ${dir} is not writable: ${describe(e)}`);
  } finally {
    rmSync(probe, { force: true });
  }
  try {
    return await Catalog.open(file);
  } catch (e) {
    throw new CatalogUnavailableError(`catalog ${file} cannot be opened: ${(e as Error).message}`);
  }
}
