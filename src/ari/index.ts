export { AriConnection, AriError, ariLatencyMs } from './ari-client';
export type { AriPort, AriEvent, AriChannel } from './ari-client';
export { StasisApp } from './stasis-app';
export type { CallSummary } from './call-session';
