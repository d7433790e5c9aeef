export { checkClosedWav, waitForClosedWav } from './closed-wav';
export type { ClosedWav } from './closed-wav';
export { Catalog } from './catalog';
export type { Recording, NewRecording, Delivery, NewDelivery, DeliveryStatus, DeliveryKind, Attempt, RecordingQuery, RecordingSource } from './catalog';
export { insideRoot, sha256File, PathOutsideRootError } from './file-store';
export { registerRecording, routesFor } from './register';
export type { Route, FinishedCall, RegistrarOptions } from './register';
export { signedDownloadUrl, verifyDownload } from './signed-link';
