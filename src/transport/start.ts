import { dirname, join } from 'node:path';
import { sharedNode, smtpOf, type Config } from '../config';
import type { Logger } from '../log';
import type { Bucket, Catalog, DeliveryKind, Recording } from '../recordings';
import { emailHandler, webhookHandler } from './handlers';
import { OutboxWorker, type DeliveryHandler, type OutboxOptions } from './outbox-worker';

/** The outbox worker with the configured routes' handlers, started: it delivers what the catalog queues. */
export function startOutbox(
  cfg: Config,
  catalog: Catalog,
  link: (rec: Recording) => string,
  log: Logger,
  onAttempt?: OutboxOptions['onAttempt'],
  bucket?: Bucket,
): { outbox: OutboxWorker; stop(): Promise<void> } {
  const t = cfg.transport;
  const handlers: Partial<Record<DeliveryKind, DeliveryHandler>> = {
    email: emailHandler({ smtp: smtpOf(cfg), maxAttachmentBytes: t.maxAttachmentBytes, link }),
    ...(t.webhookSecret ? { webhook: webhookHandler({ secret: t.webhookSecret, mode: t.webhookMode, link }) } : {}),
  };
  const outbox = new OutboxWorker({
    catalog,
    root: cfg.recordings.localDir,
    handlers,
    format: t.format,
    log: log.child({ module: 'transport' }),
    pollMs: t.pollMs,
    concurrency: t.concurrency,
    leaseMs: t.leaseMs,
    maxAgeMs: t.maxAgeHours * 3600_000,
    baseBackoffMs: t.baseBackoffMs,
    maxBackoffMs: t.maxBackoffMs,
    workDir: join(dirname(cfg.recordings.catalogFile), 'convert-tmp'),
    node: sharedNode(cfg),
    bucket,
    onAttempt,
  });
  outbox.start();
  return { outbox, stop: () => outbox.stop() };
}
