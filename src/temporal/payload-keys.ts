import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Env } from '../config/env';
import type { Logger } from '../logger';
import { formatPayloadKeys, parsePayloadKeys, type PayloadKey } from '../config/payload-key-spec';

/** `npm start`'s own key when CAUSEWAY_PAYLOAD_KEYS is not set: under the data directory, readable by its owner only. */
export const localKeyFile = (dataDir: string) => path.join(dataDir, 'payload-keys');

export function readLocalPayloadKeys(dataDir: string): PayloadKey[] | null {
  const file = localKeyFile(dataDir);
  if (!fs.existsSync(file)) return null;
  try {
    return parsePayloadKeys(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/**
 * `npm start`: CAUSEWAY_PAYLOAD_KEYS, else the local key file, created on first start. It lives beside the dev
 * server's SQLite file (same data directory): whoever can read one can read the other, so a local key protects
 * histories exported or shown in the Web UI, not a copied data directory; production sets CAUSEWAY_PAYLOAD_KEYS.
 */
export function ensureLocalPayloadKeys(
  env: Pick<Env, 'CAUSEWAY_PAYLOAD_KEYS' | 'CAUSEWAY_DATA_DIR'>,
  log: Logger,
): PayloadKey[] {
  if (env.CAUSEWAY_PAYLOAD_KEYS) return env.CAUSEWAY_PAYLOAD_KEYS;
  const existing = readLocalPayloadKeys(env.CAUSEWAY_DATA_DIR);
  if (existing) {
    log.info(
      { keyIds: existing.map((k) => k.id) },
      `payload encryption: local key from ${localKeyFile(env.CAUSEWAY_DATA_DIR)}`,
    );
    return existing;
  }
  const keys = [{ id: `local-${new Date().toISOString().slice(0, 10)}`, key: randomBytes(32) }];
  fs.mkdirSync(env.CAUSEWAY_DATA_DIR, { recursive: true });
  fs.writeFileSync(localKeyFile(env.CAUSEWAY_DATA_DIR), `${formatPayloadKeys(keys)}\n`, { mode: 0o600, flag: 'wx' });
  log.warn(
    { keyIds: keys.map((k) => k.id) },
    `payload encryption: no CAUSEWAY_PAYLOAD_KEYS, created a local key in ${localKeyFile(env.CAUSEWAY_DATA_DIR)} (back it up: histories written with it cannot be read without it)`,
  );
  return keys;
}

export class PayloadKeysMissingError extends Error {
  constructor(what: string) {
    super(
      `${what} refuses to start in production without CAUSEWAY_PAYLOAD_KEYS: Temporal histories would hold phone numbers and message texts in plain text (set CAUSEWAY_PAYLOAD_KEYS="<id>:$(openssl rand -base64 32)")`,
    );
    this.name = 'PayloadKeysMissingError';
  }
}

/**
 * Standalone API, worker and CLI: CAUSEWAY_PAYLOAD_KEYS, else the local key of an `npm start` in the same data
 * directory. Without either, production refuses to start — a history is immutable, so plaintext written once
 * stays readable for the whole retention period; development and tests run unencrypted, with a loud warning.
 */
export function resolvePayloadKeys(
  env: Pick<Env, 'CAUSEWAY_PAYLOAD_KEYS' | 'CAUSEWAY_DATA_DIR' | 'NODE_ENV'>,
  log: Logger,
  what: string,
): PayloadKey[] | null {
  if (env.CAUSEWAY_PAYLOAD_KEYS) return env.CAUSEWAY_PAYLOAD_KEYS;
  const local = readLocalPayloadKeys(env.CAUSEWAY_DATA_DIR);
  if (local) return local;
  if (env.NODE_ENV === 'production') throw new PayloadKeysMissingError(what);
  log.warn(
    `${what}: NO PAYLOAD ENCRYPTION — CAUSEWAY_PAYLOAD_KEYS is not set, so Temporal histories carry phone numbers and message texts in plain text (allowed outside NODE_ENV=production only)`,
  );
  return null;
}
