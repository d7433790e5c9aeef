import { ensureSandbox } from './sandbox';
import { startConnectedService, startTestService, type TestService } from './service';
import { SmtpSink, WebhookReceiver } from './receivers';

export interface DeliveryFixture {
  svc: TestService;
  rx: WebhookReceiver;
  smtp: SmtpSink;
  stop(): Promise<void>;
}

/** The service with a real webhook receiver and a real SMTP server on loopback as its delivery routes. */
export async function startWithReceivers(
  secret: string,
  emailTo: string,
  env: Record<string, string> = {},
  opts: { connected?: boolean } = {},
): Promise<DeliveryFixture> {
  // Only tests that place calls need the sandbox; the others bring their own recordings directory.
  const chroot = opts.connected || !env.DC_RECORDINGS_LOCAL_DIR ? await ensureSandbox() : '/nonexistent-sandbox';
  const rx = new WebhookReceiver(secret);
  const smtp = new SmtpSink();
  await rx.listen();
  await smtp.listen();
  const svc = await (opts.connected ? startConnectedService : startTestService)(chroot, {
    DC_WEBHOOK_URL: rx.url,
    DC_WEBHOOK_SECRET: secret,
    DC_EMAIL_TO: emailTo,
    DC_SMTP_PORT: String(smtp.port),
    DC_SMTP_SECURITY: 'none',
    DC_DELIVERY_POLL_MS: '200',
    ...env,
  });
  return {
    svc,
    rx,
    smtp,
    async stop() {
      await svc.stop();
      await rx.close();
      await smtp.close();
    },
  };
}
