export { portalApp, startPortal } from './app';
export type { PortalOptions } from './app';
export { uploadRouter } from './upload';
export type { UploadOptions } from './upload';
