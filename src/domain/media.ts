/** A message's attachment as the AI may learn of it: never its URL (Twilio's links need the account's credentials). */
export interface MediaDescriptionInput {
  contentType: string | null;
  /** A document's file name, when the channel gave one. */
  filename?: string | null;
  /** Audio or video length, when known. */
  durationSec?: number | null;
  /** Issue 23 C: a voice note's transcript or an image's description, when the model read it. */
  text?: string | null;
}

const DOCUMENT_TYPES = new Set([
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'text/plain',
  'text/csv',
]);

/** `0:12`, `3:05`, `1:02:03`. */
export function formatDuration(totalSec: number): string {
  const s = Math.max(0, Math.round(totalSec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A file name fit for a prompt line: no brackets or newlines that could pose as another attachment or a turn. */
const cleanName = (name: string) =>
  name
    .replace(/[[\]\r\n\t]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);

/** A transcript or description inside its brackets: no brackets or line breaks that could pose as another turn. */
const quoted = (text: string) =>
  `«${text
    .replace(/[[\]«»]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2000)}»`;

/** One attachment: `[image]`, `[audio 0:12]`, `[video]`, `[document: name.pdf]`, `[sticker]`, `[contact card]`… */
export function describeMediaItem(item: MediaDescriptionInput): string {
  const type = (item.contentType ?? '').toLowerCase().split(';')[0]!.trim();
  const duration =
    item.durationSec !== undefined && item.durationSec !== null && Number.isFinite(item.durationSec)
      ? ` ${formatDuration(item.durationSec)}`
      : '';
  const name = item.filename ? cleanName(item.filename) : '';
  const said = item.text ? quoted(item.text) : '';
  // WhatsApp stickers are WebP images.
  if (type === 'image/webp') return '[sticker]';
  if (type.startsWith('image/')) return said ? `[image, described: ${said}]` : '[image]';
  if (type.startsWith('audio/')) return said ? `[audio${duration}, transcribed: ${said}]` : `[audio${duration}]`;
  if (type.startsWith('video/')) return `[video${duration}]`;
  if (type === 'text/vcard' || type === 'text/x-vcard') return '[contact card]';
  if (DOCUMENT_TYPES.has(type) || name) return name ? `[document: ${name}]` : '[document]';
  return '[attachment]';
}

/** Every attachment of a message, in order, space-separated; '' when there are none. */
export function describeMedia(media: readonly MediaDescriptionInput[]): string {
  return media.map(describeMediaItem).join(' ');
}

/**
 * What the AI reads for a stored message: its text, with its attachments described before it, so a media-only
 * message reaches the turn (`[image]`) and the AI can answer or hand over instead of seeing nothing.
 */
export function messageTextForAi(message: { body: string; media?: readonly MediaDescriptionInput[] | null }): string {
  const described = describeMedia(message.media ?? []);
  if (!described) return message.body;
  return message.body ? `${described} ${message.body}` : described;
}

/** Told to the AI when its history has attachments: it reads only their descriptions, never their content. */
export const MEDIA_NOTE =
  'Attachments appear as [image], [audio 0:12], [video], [document: name.pdf] and the like: you cannot see or hear them. Ask the customer to describe what they sent, or hand over to a human (wants_human) when it matters. A voice note shown as [audio 0:12, transcribed: «…»] is what the customer said; an image shown as [image, described: «…»] is what it shows (an automatic description: confirm details that matter).';
