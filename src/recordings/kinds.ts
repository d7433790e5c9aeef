// The catalog's vocabularies, defined once (the schema, the config and the portal use these).
export const RECORDING_SOURCES = ['ari', 'agi', 'upload'] as const;
export type RecordingSource = (typeof RECORDING_SOURCES)[number];
export const DELIVERY_KINDS = ['webhook', 'email'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
/** A caller's number as it may be stored and searched (digits, letters of SIP user parts, + * #); may be empty. */
export const ANI_PATTERN = /^[0-9A-Za-z+*#]{0,32}$/;
/** A dialled number. */
export const DNIS_PATTERN = /^[0-9+*#]{1,32}$/;
const AUDIO_CONTENT_TYPES: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', opus: 'audio/ogg' };
/** The MIME type of a recording format (the portal's player, the bucket's objects, the deliveries). */
export const audioContentType = (format: string): string => AUDIO_CONTENT_TYPES[format] ?? 'application/octet-stream';
