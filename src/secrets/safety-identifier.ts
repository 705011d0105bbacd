import { createHmac } from 'node:crypto';
import { keyring, type Keyring } from './keyring';

/**
 * OpenAI's `safety_identifier` for a contact: HMAC-SHA256 of the tenant and contact ids under a key derived from
 * the secrets keyring. Stable per contact (every turn and summary of theirs carries the same one, so OpenAI can
 * attribute abuse to one end user) and useless for finding the person: it hashes ids, never the phone, and the key
 * never leaves this process. Derived from the OLDEST configured key (the keyring lists newest first), so adding a
 * key for rotation leaves identifiers unchanged; they change only once that old key is retired.
 */
export function safetyIdentifier(tenantId: string, contactId: string, ring: Keyring = keyring()): string {
  const keys = [...ring.byId.values()];
  const base = keys[keys.length - 1]!;
  const key = createHmac('sha256', base).update('causeway/openai-safety-identifier/v1').digest();
  return `cw-${createHmac('sha256', key).update(`${tenantId}:${contactId}`).digest('hex').slice(0, 40)}`;
}
