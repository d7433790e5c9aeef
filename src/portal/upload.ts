import { randomBytes } from 'node:crypto';
import { sameSecret } from '../net/access';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import multer from 'multer';
import { probeWavFile } from '../media';
import type { Logger } from '../log';
import { ANI_PATTERN as ANI, DNIS_PATTERN as DNIS, type Recording } from '../recordings';

export interface UploadOptions {
  /** Recordings root; uploads land in <root>/uploads/YYYY/MM/DD/. */
  root: string;
  /** Accepted bearer tokens (Authorization: Bearer <token>, or ?token= for IVRs that cannot set headers). */
  tokens: string[];
  maxBytes: number;
  /** Uploads received at the same time; more get 429 with Retry-After (default 4). */
  maxConcurrent?: number;
  /** Each upload's outcome (metrics). */
  onOutcome?: (outcome: string) => void;
  log: Logger;
  /** Catalogue the stored file and queue its deliveries; resolves with the catalog row. */
  register(file: { path: string; ani: string; dnis: string; durationMs: number; format: string }): Promise<Recording>;
}

const FIELDS = new Set(['ANI', 'DNIS']);
// Less than one 20 ms frame is no recording.
const MIN_AUDIO_MS = 20;

/** A value inside an ECMAScript string literal inside an XML attribute: safe for both (\uXXXX escapes only). */
export function vxmlString(v: string): string {
  return `'${v.replace(/[^A-Za-z0-9 _.,:;!?@/+=()[\]{}#$%*-]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function tokenOk(given: string, tokens: string[]): boolean {
  return tokens.some((t) => sameSecret(given, t));
}

function wantsXml(req: Request): boolean {
  const a = String(req.headers.accept ?? '');
  return /xml/.test(a) && !/json/.test(a.split(',')[0] ?? '');
}

/** The reply an IVR's <submit> can use: VoiceXML when it asks for XML, JSON otherwise. */
function reply(req: Request, res: Response, status: number, body: { ok: boolean; id?: string; error?: string }): void {
  if (wantsXml(req)) {
    // The value is ECMAScript inside an XML attribute: an XML entity would be decoded before the script
    // runs, so a quote in it could end the string; \uXXXX escapes hold for both languages.
    const vars = body.ok
      ? `<var name="recording_id" expr="${vxmlString(body.id ?? '')}"/>`
      : `<var name="error" expr="${vxmlString(body.error ?? '')}"/>`;
    res
      .status(status)
      .type('application/voicexml+xml')
      .send(
        `<?xml version="1.0" encoding="UTF-8"?>\n<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form>${vars}<block><return namelist="${body.ok ? 'recording_id' : 'error'}"/></block></form></vxml>\n`,
      );
  } else {
    res.status(status).json(body);
  }
}

/**
 * POST /upload: an IVR's recording (multipart/form-data: ANI, DNIS, and the file part MSG). The file is
 * written to a temporary name, checked to be audio, renamed into place (atomic) and catalogued before the
 * 200. Anything wrong: 4xx with the reason, nothing kept.
 */
export function uploadRouter(o: UploadOptions): Router {
  const incoming = join(o.root, '.incoming');
  mkdirSync(incoming, { recursive: true });
  const upload = multer({
    storage: multer.diskStorage({
      destination: incoming,
      // Never the client's name: it could be a path.
      filename: (_req, _file, cb) => cb(null, `${Date.now()}-${randomBytes(8).toString('hex')}.part`),
    }),
    limits: { fileSize: o.maxBytes, files: 1, fields: 4, fieldSize: 256, parts: 6, fieldNameSize: 32, headerPairs: 50 },
  }).single('MSG');

  const r = express.Router();
  let active = 0;
  const maxConcurrent = o.maxConcurrent ?? 4;
  const OUTCOMES: Record<number, string> = {
    200: 'ok',
    400: 'bad_request',
    401: 'unauthorized',
    413: 'too_large',
    415: 'unsupported',
    429: 'busy',
  };
  r.use('/upload', (_req, res, next) => {
    res.once('finish', () => o.onOutcome?.(OUTCOMES[res.statusCode] ?? 'error'));
    next();
  });
  r.post(
    '/upload',
    (req, res, next) => {
      const auth = String(req.headers.authorization ?? '');
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : typeof req.query.token === 'string' ? req.query.token : '';
      if (!given || !tokenOk(given, o.tokens)) return reply(req, res, 401, { ok: false, error: 'missing or wrong upload token' });
      if (!/^multipart\/form-data/i.test(String(req.headers['content-type'] ?? '')))
        return reply(req, res, 415, { ok: false, error: 'send multipart/form-data with ANI, DNIS and the file part MSG' });
      // Bounded before a byte of the body is read: a burst of large uploads cannot starve the calls.
      if (active >= maxConcurrent) {
        res.set('retry-after', '1');
        return reply(req, res, 429, { ok: false, error: `${maxConcurrent} uploads are being received; try again in a moment` });
      }
      active++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        active--;
      };
      res.once('finish', release);
      res.once('close', release);
      next();
    },
    (req, res, next) => upload(req, res, (err: unknown) => (err ? next(err) : next())),
    async (req: Request, res: Response, next: NextFunction) => {
      const tmp = req.file?.path;
      try {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (typeof body.MSG === 'string' || !req.file) throw new UploadError(400, 'MSG must be a file part (the recording)');
        const unknown = Object.keys(body).filter((k) => !FIELDS.has(k));
        if (unknown.length) throw new UploadError(400, `unknown field(s): ${unknown.join(', ')} (expected ANI, DNIS and the file MSG)`);
        const ani = body.ANI;
        const dnis = body.DNIS;
        if (typeof ani !== 'string' || !ANI.test(ani)) throw new UploadError(400, 'ANI: up to 32 of 0-9 A-Z a-z + * #');
        if (typeof dnis !== 'string' || !DNIS.test(dnis)) throw new UploadError(400, 'DNIS: 1 to 32 of 0-9 + * #');
        let durationMs: number;
        try {
          // By content, header only: WAV (PCM16, mu-law, A-law), sizes checked against the file, nothing decoded.
          durationMs = (await probeWavFile(tmp!)).durationMs;
        } catch (e) {
          throw new UploadError(415, `MSG is not a WAV recording we can read: ${(e as Error).message}`);
        }
        if (durationMs < MIN_AUDIO_MS)
          throw new UploadError(400, `MSG holds no audio (${durationMs.toFixed(1)} ms; at least ${MIN_AUDIO_MS} ms)`);
        const now = new Date();
        const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
        const dir = join(o.root, 'uploads', day);
        mkdirSync(dir, { recursive: true });
        const final = join(
          dir,
          `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${ani || 'anonymous'}-${dnis}-${randomBytes(6).toString('hex')}.wav`,
        );
        renameSync(tmp!, final);
        try {
          const rec = await o.register({ path: final, ani, dnis, durationMs, format: 'wav' });
          o.log.info({ recording: rec.id, ani, dnis, bytes: req.file.size }, 'upload catalogued');
          reply(req, res, 200, { ok: true, id: rec.id });
        } catch (e) {
          rmSync(final, { force: true });
          throw e;
        }
      } catch (e) {
        if (tmp) rmSync(tmp, { force: true });
        next(e);
      }
    },
  );
  // Errors of this router: multer's limits, our checks; anything else is a 500 without details.
  r.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (req.file?.path) rmSync(req.file.path, { force: true });
    if (err instanceof UploadError) return reply(req, res, err.status, { ok: false, error: err.message });
    if (err instanceof multer.MulterError) {
      const status = err.code === 'LIMIT_FILE_SIZE' ? 413 : 400;
      const what =
        err.code === 'LIMIT_UNEXPECTED_FILE'
          ? `unexpected file field "${err.field ?? ''}" (only MSG)`
          : `${err.message}${err.field ? ` (${err.field})` : ''}`;
      return reply(req, res, status, { ok: false, error: err.code === 'LIMIT_FILE_SIZE' ? `MSG larger than ${o.maxBytes} bytes` : what });
    }
    const msg = (err as Error)?.message ?? String(err);
    // The client went away mid-upload: its doing, not ours (and nobody is left to answer).
    const gone = !!req.socket?.destroyed;
    if (gone || /aborted/i.test(msg)) {
      o.log.warn({ err: msg }, 'upload aborted by the client');
      if (!gone && !res.headersSent) reply(req, res, 400, { ok: false, error: 'upload aborted' });
      return;
    }
    // busboy's complaints about a broken body (truncated, bad boundary) are the client's fault.
    if (/multipart|boundary|Unexpected end|part/i.test(msg))
      return reply(req, res, 400, { ok: false, error: `malformed multipart body: ${msg}` });
    o.log.error({ err: msg }, 'upload failed');
    return reply(req, res, 500, { ok: false, error: 'internal error' });
  });
  return r;
}
