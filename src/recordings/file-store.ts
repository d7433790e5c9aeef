import { createHash } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
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
  if (!rel || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
    throw new PathOutsideRootError(`${p} is outside the recordings root ${absRoot}`);
  return rel;
}

/**
 * The file a catalogued (relative) path names, proved to be a regular file that is really inside the root:
 * a symbolic link anywhere on the way is resolved first, so a link in the spool to a file elsewhere is
 * refused like '..' would be. Returns the resolved absolute path.
 */
export function realFileInsideRoot(root: string, p: string): string {
  const rel = insideRoot(root, p);
  const realRoot = realpathSync(resolve(root));
  const real = realpathSync(resolve(realRoot, rel));
  const back = relative(realRoot, real);
  if (!back || back.startsWith(`..${sep}`) || back === '..' || isAbsolute(back))
    throw new PathOutsideRootError(`${p} leads outside the recordings root ${realRoot} (to ${real})`);
  if (!statSync(real).isFile()) throw new PathOutsideRootError(`${p} is not a regular file`);
  return real;
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
