import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKey } from '../config/payload-key-spec';

// The key list format lives in its own module, light enough for config parsing (src/config/env.ts).
export { formatPayloadKeys, parsePayloadKeys, type PayloadKey } from '../config/payload-key-spec';

/** The encoding of an encrypted payload; its `data` is IV ‖ AES-256-GCM ciphertext ‖ tag of the whole original Payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key a payload was encrypted with, so rotation can decrypt old histories. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export const isEncryptedPayload = (payload: Payload) =>
  payload.metadata?.[METADATA_ENCODING_KEY] !== undefined &&
  fromUtf8.decode(payload.metadata[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;

/**
 * AES-256-GCM over the whole serialized Payload (its metadata too, so even the inner encoding is hidden). The key
 * id is authenticated as additional data: a payload cannot be made to decrypt under a different key's name.
 * Payloads that are not encrypted pass through decode unchanged: histories written before encryption (and the
 * committed replay fixtures) stay readable and replayable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;

  constructor(keys: PayloadKey[]) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  // async: a failure rejects the promise instead of throwing from the call.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(utf8.encode(this.current.id));
      const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8.encode(this.current.id),
        },
        data,
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncryptedPayload(payload)) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      if (!idBytes) throw new ValueError('encrypted payload without a key id');
      const id = fromUtf8.decode(idBytes);
      const key = this.byId.get(id);
      // The id is not secret; naming it tells the operator which key to add back to CAUSEWAY_PAYLOAD_KEYS.
      if (!key) throw new ValueError(`payload encrypted with key "${id}", which is not in CAUSEWAY_PAYLOAD_KEYS`);
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(utf8.encode(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(
          `encrypted payload failed authentication with key "${id}" (wrong key material or tampered data)`,
        );
      }
      return proto.temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
