import { randomBytes } from 'node:crypto';
import { installKeyring, parseKeyring } from '../src/secrets/keyring';

// Every test file seals auth tokens like production: a fresh key per file, as CAUSEWAY_SECRETS_KEYS would give.
installKeyring(parseKeyring(`test-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`));
