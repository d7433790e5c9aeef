export { checkClosedWav, waitForClosedWav } from './closed-wav';
export type { ClosedWav } from './closed-wav';
export { Catalog, RECORDING_SOURCES, DELIVERY_KINDS, ANI_PATTERN, DNIS_PATTERN } from './catalog';
export { audioContentType } from './kinds';
export type {
  RecordingState,
  StartedRecording,
  Recording,
  NewRecording,
  Delivery,
  NewDelivery,
  DeliveryStatus,
  DeliveryKind,
  Attempt,
  RecordingQuery,
  RecordingSource,
} from './catalog';
export { insideRoot, realFileInsideRoot, sha256File, PathOutsideRootError } from './file-store';
export { registerRecording, routesFor, relativeRecordingPath } from './register';
export type { Route, FinishedCall, RegistrarOptions } from './register';
export { signedDownloadUrl, verifyDownload } from './signed-link';
export { UserStore, UserError, hashPassword, verifyPassword, MIN_PASSWORD, ROLES, USERNAME, parseExtensions } from './users';
export type { PortalUser, Role } from './users';
export { SessionStore, type Session, type SessionLimits } from './sessions';
export { AuditLog, AUDIT_ACTIONS, type AuditAction, type AuditEntry, type AuditQuery } from './audit';
export { OutageLog } from './outages';
export { CpaConfigTable, type StoredCpaConfig } from './cpa-configs';
export type { Outage } from './outages';
export { sweepRetention, startRetention } from './retention';
export { Recorder } from './registrar';
export type { RecorderOptions, CallStarted, SweepResult } from './registrar';
export { RecordingMissingError } from './closed-wav';
export type { RetentionOptions } from './retention';
export { openWritableCatalog, CatalogUnavailableError } from './open-catalog';
export { redactUrl, type Dialect, type SqlDb } from './sql';
export { Bucket, BucketError, type BucketSettings } from './bucket';
export { Archiver, type ArchiverOptions } from './archiver';
export { MIGRATIONS, postgresMigration } from './migrations';
export { copyCatalog, CopyError } from './copy-catalog';
