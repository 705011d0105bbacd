import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Secrets at rest (Twilio auth tokens): AES-256-GCM under a key from the environment. A stored value is
 * `enc:v1:<keyId>:<base64(iv ‖ ciphertext ‖ tag)>`; the key id names the key that sealed it, so several keys can be
 * configured at once (the first seals, any opens) and a rotation re-seals rows under the new key in place.
 * A value without the prefix is a plain row from before encryption: still readable until it is sealed.
 */
export interface Keyring {
  /** The key new values are sealed with. */
  current: { id: string; key: Buffer };
  byId: Map<string, Buffer>;
}

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}

/** A key's id when the configuration gives none: a fingerprint of the key (never the key itself). */
export const keyFingerprint = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 12);

/**
 * `id:base64key[,id:base64key…]` or bare `base64key` entries, newest first. Each key is 32 random bytes in base64
 * (`openssl rand -base64 32`). Errors name the entry's position, never its content.
 */
export function parseKeyring(spec: string): Keyring {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new SecretsKeyError('no secrets key configured');
  const byId = new Map<string, Buffer>();
  let current: Keyring['current'] | undefined;
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const [idPart, material] = colon > 0 ? [entry.slice(0, colon), entry.slice(colon + 1)] : [undefined, entry];
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(material))
      throw new SecretsKeyError(`secrets key #${index + 1} is not 32 bytes of base64`);
    const id = idPart ?? keyFingerprint(key);
    if (!KEY_ID.test(id))
      throw new SecretsKeyError(`secrets key #${index + 1} has an invalid id (letters, digits, _ and -, at most 32)`);
    if (byId.has(id)) throw new SecretsKeyError(`secrets key id ${id} appears twice`);
    byId.set(id, key);
    current ??= { id, key };
  });
  return { current: current!, byId };
}

export const isSealed = (stored: string) => stored.startsWith(PREFIX);

/** The id of the key a stored value was sealed with (null: a plain value). */
export function sealedKeyId(stored: string): string | null {
  if (!isSealed(stored)) return null;
  return stored.slice(PREFIX.length, stored.indexOf(':', PREFIX.length));
}

export function seal(keyring: Keyring, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv);
  // The key id is authenticated too: a value cannot be passed off as sealed by another key.
  cipher.setAAD(Buffer.from(keyring.current.id));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${PREFIX}${keyring.current.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
}

export function open(keyring: Keyring, stored: string): string {
  if (!isSealed(stored)) return stored;
  const rest = stored.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  const id = rest.slice(0, colon);
  const key = keyring.byId.get(id);
  if (!key)
    throw new SecretsKeyError(
      `a stored secret is sealed with key ${id}, which is not configured (CAUSEWAY_SECRETS_KEYS)`,
    );
  const raw = Buffer.from(rest.slice(colon + 1), 'base64');
  if (raw.length < 28) throw new SecretsKeyError(`a stored secret sealed with key ${id} is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError(`a stored secret does not open with key ${id} (wrong key material for that id?)`);
  }
}

/** Where `npm start` keeps the key it made when none was configured. */
export const localKeyFile = (dataDir: string) => path.join(dataDir, 'secrets.key');

export function newKeyEntry(): string {
  const key = randomBytes(32);
  return `local-${keyFingerprint(key).slice(0, 8)}:${key.toString('base64')}`;
}

export interface KeyringSource {
  /** CAUSEWAY_SECRETS_KEYS, when set. */
  configured?: string;
  dataDir: string;
  /** `npm start` only: make a local key file when there is neither a configured key nor a file. */
  createIfMissing?: boolean;
}

/**
 * The keyring of this process: CAUSEWAY_SECRETS_KEYS if set, else the local key file `npm start` created in the
 * data directory (so the CLI and the children of `npm start` find the same key), else — for `npm start` — a new one.
 */
export function resolveKeyring(source: KeyringSource): {
  keyring: Keyring;
  origin: 'environment' | 'local-file' | 'created';
  file?: string;
} {
  if (source.configured) return { keyring: parseKeyring(source.configured), origin: 'environment' };
  const file = localKeyFile(source.dataDir);
  if (fs.existsSync(file)) return { keyring: parseKeyring(fs.readFileSync(file, 'utf8')), origin: 'local-file', file };
  if (!source.createIfMissing) {
    throw new SecretsKeyError(
      `no secrets key: set CAUSEWAY_SECRETS_KEYS (id:base64 of 32 random bytes, e.g. \`openssl rand -base64 32\`) or run npm start once to create ${file}`,
    );
  }
  fs.mkdirSync(source.dataDir, { recursive: true });
  // wx: two processes starting at once never overwrite each other's key (the loser reads the winner's file).
  try {
    fs.writeFileSync(file, `${newKeyEntry()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { keyring: parseKeyring(fs.readFileSync(file, 'utf8')), origin: 'local-file', file };
  }
  return { keyring: parseKeyring(fs.readFileSync(file, 'utf8')), origin: 'created', file };
}

// The process-wide keyring: the db layer seals and opens auth tokens with it, so callers of createTenant,
// updateTenant, findTenantSender… keep their signatures. Every entry point installs it once at start.
// The CLI installs a source instead, resolved on first use: commands that touch no secret need no key.
let installed: Keyring | undefined;
let lazySource: KeyringSource | undefined;

export function installKeyring(ring: Keyring): void {
  installed = ring;
}

export function installKeyringSource(source: KeyringSource): void {
  installed = undefined;
  lazySource = source;
}

export function keyring(): Keyring {
  if (!installed && lazySource) installed = resolveKeyring(lazySource).keyring;
  if (!installed)
    throw new SecretsKeyError('the secrets keyring is not installed (entry points call installKeyring at start)');
  return installed;
}

export const sealSecret = (plain: string) => seal(keyring(), plain);
export const openSecret = (stored: string) => open(keyring(), stored);
