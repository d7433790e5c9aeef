import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class PathOutsideRootError extends Error {
  override name = 'PathOutsideRootError';
}

/**
 * Resolves a recording path (absolute, or relative to `root`) and proves it stays inside `root`; returns
 * the path relative to the root, which is what the catalog stores. '..', absolute paths elsewhere and
 * NUL bytes are refused.
 */
export function insideRoot(root: string, p: string): string {
  if (p.includes('\0')) throw new PathOutsideRootError('path contains a NUL byte');
  const absRoot = resolve(root);
  const abs = resolve(absRoot, p);
  const rel = relative(absRoot, abs);
  if (!rel || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw new PathOutsideRootError(`${p} is outside the recordings root ${absRoot}`);
  return rel;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}
