import { createReadStream, statSync } from 'node:fs';
import type { Request, Response } from 'express';
import { audioContentType, PathOutsideRootError, realFileInsideRoot, type Bucket, type Recording } from '../recordings';
import { parseRange } from './range';

/**
 * RFC 6266: a plain ASCII `filename` with nothing that could end the quoted string or add a parameter (the caller
 * id is the caller's to choose), and the exact name as `filename*` (RFC 8187, UTF-8, percent-encoded).
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const clean = name.replace(/[\x00-\x1f\x7f]/g, '');
  const ascii = clean.replace(/[^\x20-\x7e]|["\\;%]/g, '_');
  const star = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${star}`;
}

/** The recording's file, whole or one byte range (206 / 416), for players that seek. */
export interface AudioSource {
  /** The recordings root on this disk. */
  root: string;
  /** The archive, for recordings not (or no longer) on this disk. */
  bucket?: Bucket;
}

export async function sendAudio(
  src: AudioSource,
  rec: Recording,
  req: Request,
  res: Response,
  disposition: 'inline' | 'attachment',
): Promise<void> {
  let file: string | undefined;
  let size: number;
  try {
    file = realFileInsideRoot(src.root, rec.path);
    size = statSync(file).size;
  } catch (e) {
    if (e instanceof PathOutsideRootError) {
      // A link out of the spool (or something that is not a file) is never served.
      res.status(404).json({ ok: false, error: 'not found' });
      return;
    }
    if (!rec.objectKey || !src.bucket || rec.purgedAt) {
      if (rec.purgedAt) res.status(410).json({ ok: false, error: 'the recording file is gone (retention)' });
      else
        res.status(503).json({
          ok: false,
          error: `the audio is on ${rec.node ?? 'another companion'}'s disk and not in the bucket yet: try again shortly`,
        });
      return;
    }
    file = undefined; // from the bucket: its size is the catalog's (verified when it was archived)
    size = rec.sizeBytes;
  }
  res.set({
    'content-type': audioContentType(rec.format),
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-store',
    'content-disposition': contentDisposition(disposition, `${rec.ani || 'anonymous'}-${rec.dnis}-${rec.id}.${rec.format}`),
  });
  const range = parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    res.status(416).set('content-range', `bytes */${size}`).end();
    return;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1];
  if (range.kind === 'partial') res.status(206).set('content-range', `bytes ${start}-${end}/${size}`);
  res.set('content-length', String(size === 0 ? 0 : end - start + 1));
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  if (file) {
    const stream = createReadStream(file, { start, end });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return;
  }
  try {
    const { body } = await src.bucket!.get(rec.objectKey!, { start, end });
    body.on('error', () => res.destroy());
    body.pipe(res);
  } catch (e) {
    // Headers are set but nothing is sent yet: say what went wrong instead of a truncated body.
    res.removeHeader('content-range');
    res.removeHeader('content-length');
    res.removeHeader('content-disposition');
    res.status(502).json({ ok: false, error: `the bucket did not answer: ${(e as Error).message}` });
  }
}
