import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { insideRoot, verifyDownload, type Catalog } from '../recordings';

export interface DownloadOptions {
  catalog: Catalog;
  root: string;
  linkSecret: string;
}

const TYPES: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', opus: 'audio/ogg' };

/**
 * GET /recordings/:id/download?expires=&sig=: a recording by id through a signed, expiring link (the
 * links in e-mails and link-mode webhooks). The catalog's relative path is re-checked against the root.
 */
export function downloadRouter(o: DownloadOptions): Router {
  const r = express.Router();
  r.get('/recordings/:id/download', (req, res) => {
    const id = req.params.id;
    const v = verifyDownload(o.linkSecret, id, req.query.expires as string | undefined, req.query.sig as string | undefined);
    if (v !== 'ok') return res.status(v === 'expired' ? 410 : 403).json({ ok: false, error: v === 'expired' ? 'this link has expired' : 'bad or missing signature' });
    const rec = o.catalog.getRecording(id);
    if (!rec) return res.status(404).json({ ok: false, error: 'no such recording' });
    const file = join(o.root, insideRoot(o.root, rec.path));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return res.status(410).json({ ok: false, error: 'the recording file is gone (retention)' });
    }
    res.set({
      'content-type': TYPES[rec.format] ?? 'application/octet-stream',
      'content-length': String(size),
      'content-disposition': `attachment; filename="${rec.ani || 'anonymous'}-${rec.dnis}-${rec.id}.${rec.format}"`.replace(/[^\x20-\x7e]/g, '_'),
      'cache-control': 'private, no-store',
    });
    createReadStream(file).pipe(res);
  });
  return r;
}
