import { createTransport, type Transporter } from 'nodemailer';
import type { AttemptResult } from './webhook';

export interface SmtpConfig {
  host: string;
  port: number;
  /** 'tls' = implicit TLS (465), 'starttls' = upgrade required, 'none' = plain (loopback relays only). */
  security: 'tls' | 'starttls' | 'none';
  user?: string;
  pass?: string;
  from: string;
}

export interface RecordingMail {
  to: string;
  ani: string;
  dnis: string;
  details: Record<string, string>;
  attachment?: { path: string; name: string; contentType: string };
  /** When the audio is too large to attach. */
  link?: string;
}

export function mailer(c: SmtpConfig): Transporter {
  return createTransport({
    host: c.host,
    port: c.port,
    secure: c.security === 'tls',
    requireTLS: c.security === 'starttls',
    ignoreTLS: c.security === 'none',
    ...(c.user ? { auth: { user: c.user, pass: c.pass ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
}

/**
 * Sends one recording by e-mail. SMTP 4xx and network errors are retried; 5xx (mailbox unknown, message
 * refused) are permanent.
 */
export async function mailRecording(t: Transporter, from: string, m: RecordingMail): Promise<AttemptResult> {
  const lines = Object.entries(m.details).map(([k, v]) => `${k}: ${v}`);
  if (m.link) lines.push('', `The recording is too large to attach. Download it here: ${m.link}`);
  try {
    await t.sendMail({
      from,
      to: m.to,
      subject: `Recorded Message - ANI:${m.ani}, DNIS:${m.dnis}`,
      text: `${lines.join('\n')}\n`,
      attachments: m.attachment ? [{ filename: m.attachment.name, path: m.attachment.path, contentType: m.attachment.contentType }] : [],
    });
    return { outcome: 'delivered' };
  } catch (e) {
    const err = e as { responseCode?: number; code?: string; message: string };
    if (err.responseCode && err.responseCode >= 500) return { outcome: 'dead', error: `SMTP ${err.responseCode}: ${err.message}` };
    return { outcome: 'retry', error: `SMTP ${err.responseCode ?? err.code ?? ''}: ${err.message}`.trim() };
  }
}

/** A plain-text notice (e.g. the connectivity monitor's restore alert); throws when the server refuses it. */
export async function mailNotice(t: Transporter, from: string, to: string, subject: string, text: string): Promise<void> {
  await t.sendMail({ from, to, subject, text: text.endsWith('\n') ? text : `${text}\n` });
}
