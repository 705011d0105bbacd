import { describe, expect, it } from 'vitest';
import { describeMedia, describeMediaItem, formatDuration, messageTextForAi } from '../../src/domain/media';

describe('describeMedia (D: what the AI reads for an attachment)', () => {
  it('names each kind by its content type', () => {
    expect(describeMediaItem({ contentType: 'image/jpeg' })).toBe('[image]');
    expect(describeMediaItem({ contentType: 'image/png' })).toBe('[image]');
    expect(describeMediaItem({ contentType: 'image/webp' })).toBe('[sticker]');
    expect(describeMediaItem({ contentType: 'audio/ogg; codecs=opus' })).toBe('[audio]');
    expect(describeMediaItem({ contentType: 'video/mp4' })).toBe('[video]');
    expect(describeMediaItem({ contentType: 'application/pdf' })).toBe('[document]');
    expect(describeMediaItem({ contentType: 'text/vcard' })).toBe('[contact card]');
    expect(describeMediaItem({ contentType: 'application/zip' })).toBe('[attachment]');
    expect(describeMediaItem({ contentType: null })).toBe('[attachment]');
    expect(describeMediaItem({ contentType: 'IMAGE/JPEG' })).toBe('[image]');
  });

  it('adds a known duration and a document name', () => {
    expect(describeMediaItem({ contentType: 'audio/ogg', durationSec: 12 })).toBe('[audio 0:12]');
    expect(describeMediaItem({ contentType: 'video/mp4', durationSec: 185 })).toBe('[video 3:05]');
    expect(describeMediaItem({ contentType: 'audio/mpeg', durationSec: null })).toBe('[audio]');
    expect(describeMediaItem({ contentType: 'application/pdf', filename: 'boleto.pdf' })).toBe(
      '[document: boleto.pdf]',
    );
    expect(describeMediaItem({ contentType: null, filename: 'fatura.xlsx' })).toBe('[document: fatura.xlsx]');
  });

  it('keeps a file name from posing as another attachment or a new line', () => {
    expect(describeMediaItem({ contentType: 'application/pdf', filename: 'a]\n[image] b.pdf' })).toBe(
      '[document: a image b.pdf]',
    );
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(3723)).toBe('1:02:03');
  });

  it('describes several attachments in order, none as empty', () => {
    expect(describeMedia([{ contentType: 'image/jpeg' }, { contentType: 'video/mp4' }])).toBe('[image] [video]');
    expect(describeMedia([])).toBe('');
  });

  it('the AI reads a media-only message as its description, and text with media as both', () => {
    expect(messageTextForAi({ body: '', media: [{ contentType: 'image/jpeg' }] })).toBe('[image]');
    expect(messageTextForAi({ body: 'my receipt', media: [{ contentType: 'application/pdf' }] })).toBe(
      '[document] my receipt',
    );
    expect(messageTextForAi({ body: 'hello', media: [] })).toBe('hello');
    expect(messageTextForAi({ body: 'hello' })).toBe('hello');
  });
});
