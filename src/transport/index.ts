export { resolveFfmpeg, convert, ConversionError, CONTENT_TYPE } from './ffmpeg';
export type { OutputFormat, Converted } from './ffmpeg';
export { postRecording, sign, retryAfterMs, SIGNATURE_HEADER, TIMESTAMP_HEADER, USER_AGENT } from './webhook';
export type { AttemptResult } from './webhook';
export { mailer, mailRecording, mailNotice } from './email';
export type { SmtpConfig, RecordingMail } from './email';
export { OutboxWorker, backoffMs } from './outbox-worker';
export type { OutboxOptions, DeliveryHandler } from './outbox-worker';
export { webhookHandler, emailHandler, recordingMetadata } from './handlers';
