import type { Env } from '../config/env';
import type { Logger } from '../logger';
import { installKeyring, resolveKeyring, type Keyring } from './keyring';

/**
 * Entry points: the keyring from CAUSEWAY_SECRETS_KEYS or the local key file, installed for the db layer.
 * `npm start` (createIfMissing) makes the local key on a first start and says where, never what.
 */
export function setUpSecrets(env: Env, log: Logger, options: { createIfMissing?: boolean } = {}): Keyring {
  const { keyring, origin, file } = resolveKeyring({
    configured: env.CAUSEWAY_SECRETS_KEYS,
    dataDir: env.CAUSEWAY_DATA_DIR,
    createIfMissing: options.createIfMissing,
  });
  installKeyring(keyring);
  if (origin === 'created') {
    log.warn(
      { file, keyId: keyring.current.id },
      `secrets: no CAUSEWAY_SECRETS_KEYS set, created a local key in ${file} (keep it with the data; set CAUSEWAY_SECRETS_KEYS in production)`,
    );
  } else {
    log.info({ keyId: keyring.current.id, keys: keyring.byId.size, origin }, 'secrets: keyring loaded');
  }
  return keyring;
}
