import type { Recording } from '../recordings';
import { mailer, mailRecording, type SmtpConfig } from './email';
import type { DeliveryHandler } from './outbox-worker';
import { postRecording } from './webhook';

/** What a CRM receives about a recording (the webhook's `metadata` part, the e-mail's body). */
export function recordingMetadata(rec: Recording): Record<string, unknown> {
  return {
    id: rec.id,
    uniqueid: rec.uniqueid,
    linkedid: rec.linkedid ?? null,
    ani: rec.ani,
    dnis: rec.dnis,
    started_at: rec.startedAt,
    answered_at: rec.answeredAt,
    ended_at: rec.endedAt,
    duration_ms: rec.durationMs,
    source: rec.source,
    original: { format: rec.format, size_bytes: rec.sizeBytes, sha256: rec.sha256 },
    cpa: { result: rec.cpaResult, events: rec.cpaEvents },
  };
}

export function webhookHandler(o: {
  secret: string;
  timeoutMs?: number;
  mode?: 'multipart' | 'link';
  link?: (rec: Recording) => string;
}): DeliveryHandler {
  return (d, rec, audio) => {
    const byLink = o.mode === 'link' && o.link;
    return postRecording({
      url: d.target,
      secret: o.secret,
      // The same recording to the same route is the same delivery, whatever attempt or worker sends it.
      idempotencyKey: `${rec.id}:${d.route}`,
      metadata: byLink
        ? { ...recordingMetadata(rec), audio: { url: o.link!(rec), format: rec.format } }
        : {
            ...recordingMetadata(rec),
            audio: { format: audio.name.split('.').pop(), content_type: audio.contentType, size_bytes: audio.bytes },
          },
      file: byLink ? undefined : audio,
      timeoutMs: o.timeoutMs,
    });
  };
}

export function emailHandler(o: { smtp: SmtpConfig; maxAttachmentBytes: number; link: (rec: Recording) => string }): DeliveryHandler {
  const transport = mailer(o.smtp);
  return (d, rec, audio) => {
    const attach = audio.bytes <= o.maxAttachmentBytes;
    const seconds = (rec.durationMs / 1000).toFixed(1);
    return mailRecording(transport, o.smtp.from, {
      to: d.target,
      ani: rec.ani,
      dnis: rec.dnis,
      details: {
        'Caller (ANI)': rec.ani,
        'Dialled (DNIS)': rec.dnis,
        Started: rec.startedAt ?? '-',
        Answered: rec.answeredAt ?? '-',
        Ended: rec.endedAt ?? '-',
        Duration: `${seconds} s`,
        'Call progress (CPA)': rec.cpaResult ?? '-',
        'Recording id': rec.id,
        'Asterisk uniqueid': rec.uniqueid ?? '-',
      },
      attachment: attach ? audio : undefined,
      link: attach ? undefined : o.link(rec),
    });
  };
}
