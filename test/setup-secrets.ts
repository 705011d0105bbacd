import { randomBytes } from 'node:crypto';
import { installKeyring, parseKeyring } from '../src/secrets/keyring';

// Every test file seals auth tokens like production: a fresh key per file, as CAUSEWAY_SECRETS_KEYS would give.
// CLI child processes of a test get the same key through CAUSEWAY_SECRETS_KEYS.
export const TEST_SECRETS_KEYS = `test-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;
installKeyring(parseKeyring(TEST_SECRETS_KEYS));
