import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema';
import { sentTo } from '../support/conversation';
import { echoHandler, openAiError } from '../support/fake-openai';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '100ms',
    AI_TRANSCRIBE_MODEL: 'whisper-1',
    AI_VISION_MODEL: 'gpt-4o-mini',
    AI_MEDIA_MAX_SECONDS: '300',
  });
});
afterAll(() => h?.close());

/** An Ogg/Opus voice note as WhatsApp sends one: an OpusHead page, then a last page whose granule gives the length. */
function voiceNote(seconds: number): Buffer {
  const page = (granule: bigint, payload: Buffer) => {
    const header = Buffer.alloc(27);
    header.write('OggS', 0, 'latin1');
    header.writeBigInt64LE(granule, 6);
    return Buffer.concat([header, payload]);
  };
  return Buffer.concat([
    page(0n, Buffer.from('OpusHead\u0001\u0001\u0038\u0001\u0080\u00bb\u0000\u0000\u0000\u0000\u0000', 'latin1')),
    page(0n, Buffer.from('OpusTags', 'latin1')),
    page(BigInt(seconds * 48_000), Buffer.alloc(64, 7)),
  ]);
}

/** A customer's media message: in the fake Twilio's log (which serves the file), then its signed webhook. */
async function postMedia(tenant: TestTenant, from: string, media: { contentType: string; data?: Buffer }[], body = '') {
  const { response, messageSid } = await h.postInbound(tenant, { body, from, media });
  expect(response.status).toBe(200);
  return messageSid;
}

const lastUserText = () => {
  const turn = h.openai.requests.filter((r) => r.response_format).at(-1)!;
  return turn.messages.filter((m) => m.role === 'user').at(-1)!.content;
};
const storedMedia = async (sid: string) =>
  (await h.db.select({ media: messages.media }).from(messages).where(eq(messages.providerSid, sid)))[0]!
    .media as Record<string, unknown>[];

describe('hearing and seeing (issue 23 C)', () => {
  it('a voice note reaches the turn as its transcript, fetched with the tenant credentials and stored with the message', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setTranscriber((file) => ({
      text: file.model === 'whisper-1' ? 'quero a segunda via do boleto' : 'wrong model',
    }));
    const uploads = h.openai.transcriptions.length;
    const sid = await postMedia(tenant, from, [{ contentType: 'audio/ogg', data: voiceNote(12) }]);
    await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
    expect(lastUserText()).toBe('[audio 0:12, transcribed: «quero a segunda via do boleto»]');
    expect(sentTo(h, from)[0]!.body).toContain('quero a segunda via do boleto');
    const upload = h.openai.transcriptions[uploads]!;
    expect(upload.name).toMatch(/\.ogg$/);
    expect(upload.data.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(h.twilio.mediaRequests.at(-1)).toEqual({ accountSid: tenant.accountSid, authorized: true });
    expect(await storedMedia(sid)).toEqual([
      expect.objectContaining({ contentType: 'audio/ogg', text: 'quero a segunda via do boleto', durationSec: 12 }),
    ]);
  });

  it('an image reaches the turn as its description from the vision model (inline, never the Twilio URL)', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setVision((images) => (images[0]!.type === 'image/png' ? 'Um boleto vencido de R$ 89,90' : 'other'));
    const sid = await postMedia(tenant, from, [{ contentType: 'image/png' }], 'olha isso');
    await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
    expect(lastUserText()).toBe('[image, described: «Um boleto vencido de R$ 89,90»] olha isso');
    const vision = h.openai.requests
      .filter((r) => !r.response_format && JSON.stringify(r.messages).includes('image_url'))
      .at(-1)!;
    expect(JSON.stringify(vision)).not.toContain('api.twilio.com');
    expect(JSON.stringify(vision)).not.toContain(h.twilio.url);
    expect((await storedMedia(sid))[0]).toMatchObject({ text: 'Um boleto vencido de R$ 89,90' });
  });

  it('a failed transcription degrades to [audio 0:12]; a note over the length bound is not uploaded at all', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setTranscriber(() => openAiError(500) as { status: number; body: unknown });
    const failed = await postMedia(tenant, from, [{ contentType: 'audio/ogg', data: voiceNote(12) }]);
    await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
    expect(lastUserText()).toBe('[audio 0:12]');
    expect((await storedMedia(failed))[0]).toMatchObject({ unread: 'failed' });
    expect((await storedMedia(failed))[0]).not.toHaveProperty('text');

    h.openai.setTranscriber(() => ({ text: 'never' }));
    const uploads = h.openai.transcriptions.length;
    const long = await postMedia(tenant, from, [{ contentType: 'audio/ogg', data: voiceNote(400) }]);
    await h.twilio.waitFor(() => sentTo(h, from).length === 2, 30_000);
    expect(lastUserText()).toBe('[audio 6:40]');
    expect(h.openai.transcriptions.length).toBe(uploads);
    await eventually(async () => (await storedMedia(long))[0]?.unread === 'too_long', 5_000, 'too_long recorded');
    h.openai.setHandler(echoHandler);
  });
});
