import type { MediaItem } from '../contract/types';
import { findAccountCredentials } from '../db/tenants/lookup';
import { recordMediaText, type TurnContext } from '../db/conversations/turn';
import { safeError } from '../domain/safe-error';
import { downloadTwilioMedia, oggOpusDurationSec } from '../integrations/twilio-media';
import type { ActivityDeps } from './deps';

export interface MediaReadSummary {
  transcribed: number;
  described: number;
  unread: number;
}

const ACCOUNT_IN_URL = /\/Accounts\/(AC[0-9a-fA-F]{32})\//;
const readable = (item: MediaItem) => {
  const type = (item.contentType ?? '').toLowerCase();
  return (
    (type.startsWith('audio/') || (type.startsWith('image/') && type !== 'image/webp')) && !item.text && !item.unread
  );
};

/**
 * Issue 23 C: before the turn, the burst's voice notes are transcribed and its images described, so the model
 * answers what the customer said or showed. Only media recorded with the inbound message at receipt is read (the
 * URLs Twilio's webhook gave), fetched with the tenant's own account, within the size and length bounds. Any
 * failure leaves the attachment as it was (`[audio 0:12]`) and the turn goes on; the text is stored with the
 * message. Mutates `context.history` so the prompt sees the text.
 */
export async function readBurstMedia(
  deps: ActivityDeps,
  tenantId: string,
  context: TurnContext,
  locale: string,
): Promise<MediaReadSummary | null> {
  const media = deps.media;
  if (!media) return null;
  const outbound = context.history.findIndex((m) => m.direction === 'outbound');
  const burst = context.history.slice(0, outbound === -1 ? undefined : outbound);
  const summary: MediaReadSummary = { transcribed: 0, described: 0, unread: 0 };
  for (const message of burst) {
    if (message.direction !== 'inbound' || !message.media.some(readable)) continue;
    const items: MediaItem[] = [];
    for (const item of message.media) {
      if (!readable(item)) {
        items.push(item);
        continue;
      }
      const read = await readOne(deps, media, tenantId, item, locale);
      if (read.text) summary[item.contentType!.toLowerCase().startsWith('audio/') ? 'transcribed' : 'described'] += 1;
      else summary.unread += 1;
      items.push(read);
    }
    message.media = items;
    await recordMediaText(deps.db, message.id, items);
  }
  return summary.transcribed + summary.described + summary.unread > 0 ? summary : null;
}

async function readOne(
  deps: ActivityDeps,
  media: NonNullable<ActivityDeps['media']>,
  tenantId: string,
  item: MediaItem,
  locale: string,
): Promise<MediaItem> {
  const audio = item.contentType!.toLowerCase().startsWith('audio/');
  if (audio ? !media.understanding.transcribeModel : !media.understanding.visionModel) return item;
  // What is learnt along the way (a voice note's length) stays even when the model call then fails.
  let known = item;
  try {
    const accountSid = ACCOUNT_IN_URL.exec(item.url)?.[1];
    const account = accountSid ? await findAccountCredentials(deps.db, accountSid) : null;
    // The account named in the URL must be this tenant's: never fetch with another tenant's credentials.
    if (!accountSid || !account || account.tenantId !== tenantId) return { ...known, unread: 'failed' };
    const { data, contentType } = await downloadTwilioMedia(
      item.url,
      { accountSid, authToken: account.authToken },
      { allowedOrigins: media.twilioOrigins, maxBytes: media.maxBytes, timeoutMs: 8_000 },
    ).catch((error: unknown) => {
      if (error instanceof Error && /larger than/.test(error.message)) return { data: null, contentType: null };
      throw error;
    });
    if (!data) return { ...item, unread: 'too_large' };
    const type = item.contentType ?? contentType ?? 'application/octet-stream';
    if (audio) {
      const duration = oggOpusDurationSec(data);
      if (duration !== null) known = { ...item, durationSec: Math.round(duration) };
      if (duration !== null && duration > media.maxSeconds) return { ...known, unread: 'too_long' };
      return { ...known, text: await media.understanding.transcribe(data, type, { language: locale }) };
    }
    return { ...item, text: await media.understanding.describe(data, type, { language: locale }) };
  } catch (error) {
    // Never the URL or the content: the reason's kind only.
    deps.log.warn({ err: safeError(error), contentType: item.contentType }, 'media could not be read for the turn');
    return { ...known, unread: 'failed' };
  }
}
