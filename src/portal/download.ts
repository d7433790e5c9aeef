import express, { type Router } from 'express';
import { verifyDownload, type Bucket, type Catalog } from '../recordings';
import { sendAudio } from './send-audio';
import { canSee, clientAddress, currentSession, type SessionOptions } from './session';

export interface DownloadOptions {
  catalog: Catalog;
  root: string;
  /** The archive (recordings on other companions' disks, or whose local copy went). */
  bucket?: Bucket;
  linkSecret: string;
  /** A logged-in portal user may download what they may see without a signed link. */
  session?: SessionOptions;
}

/**
 * GET /recordings/:id/download: a recording by id, for a logged-in user who may see it (an agent: their
 * extensions' calls; anyone else's id is 404, as an unknown one), or through a signed, expiring link (the
 * links in e-mails and link-mode webhooks). Every download is in the audit trail. The catalog's relative
 * path is re-checked against the root.
 */
export function downloadRouter(o: DownloadOptions): Router {
  const r = express.Router();
  r.get('/recordings/:id/download', async (req, res) => {
    const id = req.params.id;
    const s = o.session ? await currentSession(o.session, o.catalog, req) : undefined;
    // A signed link is a capability of its own: it works for whoever holds it, logged in as anyone or not.
    const signed = req.query.sig !== undefined || !s;
    if (signed) {
      const v = verifyDownload(o.linkSecret, id, req.query.expires as string | undefined, req.query.sig as string | undefined);
      if (v !== 'ok')
        return res
          .status(v === 'expired' ? 410 : 403)
          .json({ ok: false, error: v === 'expired' ? 'this link has expired' : 'bad or missing signature' });
    }
    const rec = await o.catalog.getRecording(id);
    if (!rec || (!signed && s && !canSee(s, rec))) return res.status(404).json({ ok: false, error: 'no such recording' });
    await o.catalog.audit.record({
      actor: signed ? `signed link${s ? ` (${s.username})` : ''}` : s!.username,
      action: 'download',
      target: rec.id,
      remote: clientAddress(req, o.session?.trustProxy ?? []),
    });
    await sendAudio({ root: o.root, bucket: o.bucket }, rec, req, res, 'attachment');
  });
  return r;
}
