import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log';
import { Catalog, type DeliveryKind, type NewDelivery, type Recording, type RecordingSource } from './catalog';
import { waitForClosedWav } from './closed-wav';
import { insideRoot, realFileInsideRoot, sha256File } from './file-store';
import { computePicture } from './picture';

export interface Route {
  name: string;
  kind: DeliveryKind;
  /** Webhook URL or e-mail address(es). */
  target: string;
  /** Only recordings whose DNIS matches (regular expression); all when absent. */
  dnisPattern?: string;
}

export interface FinishedCall {
  uniqueid: string | null;
  linkedid?: string | null;
  ani: string;
  dnis: string;
  startedAt?: Date;
  answeredAt?: Date;
  endedAt?: Date;
  /** The file as Asterisk named it (under asteriskDir), or already local (under the root). */
  file: string;
  source: RecordingSource;
  cpaResult?: string | null;
  cpaEvents?: unknown[];
  /** Already complete and measured (an upload): no waiting for a recorder to close it. */
  complete?: { durationMs: number; format: string };
  /** Found by the recovery sweep, not reported by a hangup. */
  recovered?: boolean;
}

// Less audio than one 20 ms frame is no recording: nothing to deliver (a busy or failed call).
const MIN_AUDIO_MS = 20;

export interface RegistrarOptions {
  catalog: Catalog;
  /** The recordings root as this service sees it. */
  root: string;
  /** The same directory as Asterisk sees it (its paths are rewritten onto `root`). */
  asteriskDir: string;
  routes: Route[];
  log: Logger;
  /** How long MixMonitor may take to close the file after the hangup. */
  closeTimeoutMs?: number;
  onRegistered?: (r: Recording) => void;
  /** With a shared catalog, this companion's instance: it completes and recovers only its own calls. */
  node?: string;
  /** This companion's instance name, written on every recording it catalogues (whose disk holds the file). */
  writtenBy?: string;
}

/** A file named as Asterisk sees it (under asteriskDir) or as we do (under root), relative to the root. */
export function relativeRecordingPath(o: Pick<RegistrarOptions, 'root' | 'asteriskDir'>, file: string): string {
  const local = file.startsWith(`${o.asteriskDir}/`) ? join(o.root, file.slice(o.asteriskDir.length + 1)) : file;
  return insideRoot(o.root, local);
}

export function routesFor(routes: Route[], dnis: string): NewDelivery[] {
  return routes
    .filter((r) => !r.dnisPattern || new RegExp(r.dnisPattern).test(dnis))
    .map((r) => ({ route: r.name, kind: r.kind, target: r.target }));
}

/**
 * Puts a finished recording into the catalog and queues its deliveries: waits until the recorder has
 * closed the file (never a half-written or header-only WAV), checks the path stays inside the root,
 * hashes it, then one transaction inserts the row and the outbox entries.
 */
export async function registerRecording(o: RegistrarOptions, call: FinishedCall): Promise<Recording> {
  const rel = relativeRecordingPath(o, call.file);
  const abs = join(o.root, rel);
  const wav = call.complete
    ? { durationMs: call.complete.durationMs, bytes: statSync(abs).size }
    : await waitForClosedWav(abs, o.closeTimeoutMs ?? 30_000);
  // Only now is there a file to look at: it must really be inside the root (no symbolic link out of it).
  realFileInsideRoot(o.root, rel);
  const sha256 = await sha256File(abs);
  const noAudio = wav.durationMs < MIN_AUDIO_MS;
  // A picture that cannot be made (an odd file) costs the page its picture, never the recording its row.
  const picture =
    noAudio || (call.complete?.format ?? 'wav') !== 'wav'
      ? null
      : await computePicture(abs).catch((e: Error) => {
          o.log.warn({ uniqueid: call.uniqueid, path: rel, err: e.message }, 'no call picture for this recording');
          return null;
        });
  const rec = await o.catalog.addRecording(
    {
      uniqueid: call.uniqueid,
      linkedid: call.linkedid ?? null,
      ani: call.ani,
      dnis: call.dnis,
      startedAt: call.startedAt ?? null,
      answeredAt: call.answeredAt ?? null,
      endedAt: call.endedAt ?? null,
      durationMs: wav.durationMs,
      path: rel,
      format: call.complete?.format ?? 'wav',
      sizeBytes: wav.bytes,
      sha256,
      cpaResult: call.cpaResult ?? null,
      cpaEvents: call.cpaEvents ?? [],
      source: call.source,
      state: noAudio ? 'no_audio' : 'complete',
      recovered: call.recovered ?? false,
      picture,
      node: o.writtenBy ?? o.node ?? null,
    },
    routesFor(o.routes, call.dnis),
  );
  o.log.info(
    {
      uniqueid: call.uniqueid,
      recording: rec.id,
      path: rel,
      durationMs: Math.round(wav.durationMs),
      state: rec.state,
      recovered: rec.recovered || undefined,
    },
    noAudio ? 'call catalogued without audio (nothing to deliver)' : 'recording catalogued',
  );
  o.onRegistered?.(rec);
  return rec;
}
