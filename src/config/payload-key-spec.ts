// The CAUSEWAY_PAYLOAD_KEYS format, without the codec (and without the Temporal SDK it needs): config parsing and the
// CLI read keys before, or without, any Temporal client.

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface PayloadKey {
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

/**
 * `k2:<base64>,k1:<base64>`: the first key encrypts, every listed key decrypts (add the new key in front to
 * rotate; drop an old one only once no retained history was written with it). Throws with the problem, never a key.
 */
export function parsePayloadKeys(spec: string): PayloadKey[] {
  const keys = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const colon = part.indexOf(':');
      const id = colon > 0 ? part.slice(0, colon) : '';
      if (!KEY_ID.test(id))
        throw new Error(
          `key ${index + 1}: expected <id>:<base64 of 32 bytes>, with an id of letters, digits, '.', '_' or '-'`,
        );
      const material = part.slice(colon + 1);
      const key = Buffer.from(material, 'base64');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material) || key.length !== 32)
        throw new Error(`key ${id}: must be 32 random bytes in base64 (openssl rand -base64 32)`);
      return { id, key };
    });
  if (keys.length === 0) throw new Error('no keys listed');
  const ids = keys.map((k) => k.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`key id ${duplicate} is listed twice`);
  return keys;
}

export function formatPayloadKeys(keys: PayloadKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
}
