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

describe('tenant marker (issue 18 B)', () => {
  const marker = (p: { metadata?: Record<string, Uint8Array> | null }) =>
    p.metadata?.['encryption-tenant'] ? new TextDecoder().decode(p.metadata['encryption-tenant']) : null;
  const wf = (workflowId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId });

  it('marks by the workflow id, by what it learned of that workflow, else by the payload; unknown stays unmarked', async () => {
    const codec = new EncryptionCodec([k1]);
    const reply = defaultPayloadConverter.toPayload({ text: 'Olá Ana' });
    expect(marker((await codec.encode([reply], wf('conversation:acme:abc123')))[0]!)).toBe('slug:acme');
    expect(marker((await codec.encode([reply], wf('sender:acme:ff00')))[0]!)).toBe('slug:acme');
    // inbound:<sid> names no tenant: the start input does, and the codec remembers it for that workflow.
    const input = defaultPayloadConverter.toPayload({ tenantId: 'u-1', tenantSlug: 'acme', body: 'oi' });
    expect(marker((await codec.encode([input], wf('inbound:MM1')))[0]!)).toBe('slug:acme');
    const activity = { type: 'activity' as const, namespace: 'default', workflowId: 'inbound:MM1', isLocal: true };
    expect(marker((await codec.encode([reply], activity))[0]!)).toBe('slug:acme');
    // A worker that never encoded it learns it by decoding the (authenticated) start input.
    const worker = new EncryptionCodec([k1]);
    const [sealed] = await codec.encode([input], wf('campaign:c-9'));
    await worker.decode([sealed!], wf('campaign:c-9'));
    expect(marker((await worker.encode([reply], wf('campaign:c-9')))[0]!)).toBe('slug:acme');
    // tenantId alone is a marker too; nothing at all: unmarked (shown to no operator by /codec/decode).
    const byId = defaultPayloadConverter.toPayload({ tenantId: 'u-2', messageSid: 'SM1' });
    expect(marker((await codec.encode([byId], wf('status:SM1:read')))[0]!)).toBe('id:u-2');
    expect(marker((await codec.encode([reply], wf('inbox-drain')))[0]!)).toBeNull();
    expect(marker((await codec.encode([reply]))[0]!)).toBeNull();
  });

  it('the marker is authenticated: removed, changed or added, the payload no longer decrypts', async () => {
    const codec = new EncryptionCodec([k1]);
    const plain = defaultPayloadConverter.toPayload({ body: 'segredo' });
    const [sealed] = await codec.encode([plain], wf('conversation:acme:abc'));
    expect(defaultPayloadConverter.fromPayload((await codec.decode([sealed!]))[0]!)).toEqual({ body: 'segredo' });
    const relabel = (value: string | null) => {
      const metadata = { ...sealed!.metadata };
      if (value === null) delete metadata['encryption-tenant'];
      else metadata['encryption-tenant'] = new TextEncoder().encode(value);
      return { ...sealed!, metadata };
    };
    await expect(codec.decode([relabel('slug:other')])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([relabel(null)])).rejects.toThrow(/failed authentication/);
    const [unmarked] = await codec.encode([plain], wf('inbox-drain'));
    const forged = {
      ...unmarked!,
      metadata: { ...unmarked!.metadata, 'encryption-tenant': new TextEncoder().encode('slug:acme') },
    };
    await expect(codec.decode([forged])).rejects.toThrow(/failed authentication/);
  });

  it('refusePlaintext rejects unencrypted payloads (production) and still opens encrypted ones', async () => {
    const strict = new EncryptionCodec([k1], { refusePlaintext: true });
    const plain = defaultPayloadConverter.toPayload({ messageId: 'forged' });
    await expect(strict.decode([plain])).rejects.toThrow(/unencrypted payload refused/);
    const [sealed] = await strict.encode([plain]);
    expect(defaultPayloadConverter.fromPayload((await strict.decode([sealed!]))[0]!)).toEqual({ messageId: 'forged' });
    expect(loadEnv({ NODE_ENV: 'production' }).CAUSEWAY_PLAINTEXT_PAYLOADS).toBe('refuse');
    expect(loadEnv({ NODE_ENV: 'test' }).CAUSEWAY_PLAINTEXT_PAYLOADS).toBe('accept');
    expect(loadEnv({ NODE_ENV: 'production', CAUSEWAY_PLAINTEXT_PAYLOADS: 'accept' }).CAUSEWAY_PLAINTEXT_PAYLOADS).toBe(
      'accept',
    );
    expect(() => loadEnv({ CAUSEWAY_PLAINTEXT_PAYLOADS: 'maybe' })).toThrow(/CAUSEWAY_PLAINTEXT_PAYLOADS/);
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
