import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import twilio from 'twilio';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import { safeError } from '../../src/domain/safe-error';
import {
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  formatPayloadKeys,
  parsePayloadKeys,
} from '../../src/temporal/payload-codec';
import { PayloadKeysMissingError, resolvePayloadKeys } from '../../src/temporal/payload-keys';
import { createLogger } from '../../src/logger';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const text = (p: { data?: Uint8Array | null }) => new TextDecoder().decode(p.data ?? new Uint8Array());

describe('EncryptionCodec', () => {
  it('encrypts the whole payload with the first key, names it, and decodes with any listed key (rotation)', async () => {
    const plain = defaultPayloadConverter.toPayload({ from: 'whatsapp:+5511987654321', body: 'devo 900' });
    const [old] = await new EncryptionCodec([k1]).encode([plain]);
    expect(new TextDecoder().decode(old!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(new TextDecoder().decode(old!.metadata!['encryption-key-id'])).toBe('k1');
    expect(text(old!)).not.toContain('5511987654321');
    expect(text(old!)).not.toContain('json/plain');
    const rotated = new EncryptionCodec([k2, k1]);
    const [back] = await rotated.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ from: 'whatsapp:+5511987654321', body: 'devo 900' });
    const [fresh] = await rotated.encode([plain]);
    expect(new TextDecoder().decode(fresh!.metadata!['encryption-key-id'])).toBe('k2');
    // Two encodings of the same value differ (random IV).
    expect(Buffer.from((await rotated.encode([plain]))[0]!.data!).equals(Buffer.from(fresh!.data!))).toBe(false);
  });

  it('passes plain payloads through, and refuses unknown keys, tampering and a swapped key id', async () => {
    const plain = defaultPayloadConverter.toPayload('olá');
    expect(await new EncryptionCodec([k1]).decode([plain])).toEqual([plain]);
    const [sealed] = await new EncryptionCodec([k1]).encode([plain]);
    await expect(new EncryptionCodec([k2]).decode([sealed!])).rejects.toThrow(
      /key "k1", which is not in CAUSEWAY_PAYLOAD_KEYS/,
    );
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(new EncryptionCodec([k1]).decode([tampered])).rejects.toThrow(/failed authentication/);
    // The key id is authenticated: k1's ciphertext relabelled as k2 (holding the same material) fails.
    const relabelled = {
      ...sealed!,
      metadata: { ...sealed!.metadata, 'encryption-key-id': new TextEncoder().encode('k2') },
    };
    await expect(new EncryptionCodec([{ id: 'k2', key: k1.key }]).decode([relabelled])).rejects.toThrow(
      /failed authentication/,
    );
  });
});

describe('CAUSEWAY_PAYLOAD_KEYS', () => {
  it('parses newest-first lists and rejects bad ones without echoing key material', () => {
    const spec = formatPayloadKeys([k2, k1]);
    expect(parsePayloadKeys(spec).map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(loadEnv({ CAUSEWAY_PAYLOAD_KEYS: spec }).CAUSEWAY_PAYLOAD_KEYS?.[0]?.key.equals(k2.key)).toBe(true);
    const short = randomBytes(16).toString('base64');
    expect(() => loadEnv({ CAUSEWAY_PAYLOAD_KEYS: `k1:${short}` })).toThrow(/32 random bytes/);
    try {
      loadEnv({ CAUSEWAY_PAYLOAD_KEYS: `k1:${short}` });
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => parsePayloadKeys(`${formatPayloadKeys([k1])},${formatPayloadKeys([k1])}`)).toThrow(/listed twice/);
    expect(() => parsePayloadKeys('nokey')).toThrow(/expected <id>:<base64/);
  });

  it('a standalone process without keys refuses in production and runs unencrypted, loudly, elsewhere', () => {
    const dir = `/tmp/causeway-nokeys-${randomBytes(4).toString('hex')}`;
    const log = createLogger('silent');
    expect(() =>
      resolvePayloadKeys(
        { NODE_ENV: 'production', CAUSEWAY_DATA_DIR: dir, CAUSEWAY_PAYLOAD_KEYS: undefined },
        log,
        'the API',
      ),
    ).toThrow(PayloadKeysMissingError);
    expect(
      resolvePayloadKeys(
        { NODE_ENV: 'development', CAUSEWAY_DATA_DIR: dir, CAUSEWAY_PAYLOAD_KEYS: undefined },
        log,
        'the API',
      ),
    ).toBeNull();
  });
});

describe('safeError (the logger serializer)', () => {
  it('keeps status and code of Twilio and OpenAI errors, never the text they echo', () => {
    const rest = new twilio.RestException({
      statusCode: 400,
      body: {
        code: 21211,
        message: "The 'To' number +5511987654321 is not a valid phone number.",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      },
    });
    expect(safeError(rest)).toMatchObject({
      type: 'TwilioRestException',
      status: 400,
      code: 21211,
      message: 'Twilio 400 code 21211',
    });
    expect(JSON.stringify(safeError(rest))).not.toContain('5511987654321');
    const ai = OpenAI.APIError.generate(
      400,
      { error: { message: "Invalid 'messages[0].content': devo 900 reais", code: 'invalid_value' } },
      undefined,
      new Headers(),
    );
    expect(JSON.stringify(safeError(ai))).not.toContain('devo 900');
    const wrapped = new Error('turn failed', {
      cause: Object.assign(new Error('Failed query: insert into messages\nparams: +5511987654321,devo 900'), {
        name: 'DrizzleQueryError',
        query: 'insert',
        params: ['+5511987654321'],
      }),
    });
    expect(JSON.stringify(safeError(wrapped))).not.toContain('5511987654321');
    // A database error anywhere in the chain: the whole error is described by its codes only.
    expect(safeError(wrapped)).toMatchObject({ type: 'DatabaseError', message: 'database error' });
  });
});
