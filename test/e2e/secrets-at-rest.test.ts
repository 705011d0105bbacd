import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealStoredSecrets } from '../../src/db/tenants/secrets';
import { findTenantWithHashKey } from '../../src/db/tenants/lookup';
import { contactHash } from '../../src/domain/contact-hash';
import { findAccount, findTenantSender, updateTenant } from '../../src/db/tenants/tenants';
import {
  installKeyring,
  keyring,
  open,
  parseKeyring,
  resolveKeyring,
  seal,
  SecretsKeyError,
  type Keyring,
} from '../../src/secrets/keyring';
import { randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  // No tenant cache: every webhook reads the account from the database, so what is stored is what is verified.
  h = await startHarness({}, { api: { tenantCacheTtlMs: 0 } });
});
afterAll(() => h?.close());

const storedToken = async (accountSid: string) => {
  const rows = await h.sql<
    { auth_token: string }[]
  >`select auth_token from twilio_accounts where account_sid = ${accountSid}`;
  return rows[0]!.auth_token;
};
const spec = (ring: Keyring) => [...ring.byId].map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');
const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('Twilio auth tokens at rest', () => {
  it('are stored sealed (no plain token in the row), and the webhook still verifies signatures', async () => {
    const tenant = await h.createTestTenant();
    const stored = await storedToken(tenant.accountSid);
    expect(stored).toMatch(new RegExp(`^enc:v1:${keyring().current.id}:`));
    expect(stored).not.toContain(tenant.authToken);
    expect((await findAccount(h.db, tenant.accountSid))!.authToken).toBe(tenant.authToken);
    expect((await findTenantSender(h.db, tenant.tenantId, 'whatsapp', tenant.phone))!.authToken).toBe(tenant.authToken);

    expect((await h.postInbound(tenant, { body: 'oi', from: `whatsapp:${randomPhone()}` })).response.status).toBe(200);
    const forged = await h.postInbound(
      tenant,
      { body: 'oi', from: `whatsapp:${randomPhone()}` },
      { authToken: randomBytes(16).toString('hex') },
    );
    expect(forged.response.status).toBe(403);
  });

  it('reads plain rows from before encryption, and seals them once (idempotent)', async () => {
    const tenant = await h.createTestTenant();
    await h.sql`update twilio_accounts set auth_token = ${tenant.authToken} where account_sid = ${tenant.accountSid}`;
    expect((await h.postInbound(tenant, { body: 'antes', from: `whatsapp:${randomPhone()}` })).response.status).toBe(
      200,
    );

    expect(await sealStoredSecrets(h.db, keyring(), { accountSids: [tenant.accountSid] })).toEqual({
      sealed: 1,
      resealed: 0,
      unknownKeyIds: [],
      hashKeysSealed: 0,
    });
    expect(await storedToken(tenant.accountSid)).not.toContain(tenant.authToken);
    expect(await sealStoredSecrets(h.db, keyring(), { accountSids: [tenant.accountSid] })).toEqual({
      sealed: 0,
      resealed: 0,
      unknownKeyIds: [],
      hashKeysSealed: 0,
    });
    expect((await h.postInbound(tenant, { body: 'depois', from: `whatsapp:${randomPhone()}` })).response.status).toBe(
      200,
    );
  });

  it('a rotation of the secrets key re-seals the rows under the new key; the old key can then be dropped', async () => {
    const original = keyring();
    const tenant = await h.createTestTenant();
    const before = await storedToken(tenant.accountSid);
    try {
      installKeyring(parseKeyring(`${newKey('rotated-k2')},${spec(original)}`));
      // Until the pass runs, rows under the old key still open.
      expect((await h.postInbound(tenant, { body: 'um', from: `whatsapp:${randomPhone()}` })).response.status).toBe(
        200,
      );
      expect(await sealStoredSecrets(h.db, keyring(), { accountSids: [tenant.accountSid] })).toEqual({
        sealed: 0,
        resealed: 1,
        unknownKeyIds: [],
        hashKeysSealed: 0,
      });
      const after = await storedToken(tenant.accountSid);
      expect(after).toMatch(/^enc:v1:rotated-k2:/);
      expect(after).not.toBe(before);

      // The new key alone now opens everything of this tenant; the old key alone no longer does.
      installKeyring(
        parseKeyring(
          [...keyring().byId]
            .filter(([id]) => id === 'rotated-k2')
            .map(([id, key]) => `${id}:${key.toString('base64')}`)
            .join(','),
        ),
      );
      expect((await h.postInbound(tenant, { body: 'dois', from: `whatsapp:${randomPhone()}` })).response.status).toBe(
        200,
      );
      expect(() => open(original, after)).toThrow(SecretsKeyError);
    } finally {
      installKeyring(original);
    }
  });

  it('tenant update --rotate-auth-token stores the new Twilio token sealed, and webhooks signed with it verify', async () => {
    const tenant = await h.createTestTenant();
    const rotated = randomBytes(16).toString('hex');
    await updateTenant(h.db, tenant.slug, { authToken: rotated });
    const stored = await storedToken(tenant.accountSid);
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain(rotated);
    expect(
      (await h.postInbound(tenant, { body: 'novo', from: `whatsapp:${randomPhone()}` }, { authToken: rotated }))
        .response.status,
    ).toBe(200);
    expect((await h.postInbound(tenant, { body: 'velho', from: `whatsapp:${randomPhone()}` })).response.status).toBe(
      403,
    );
  });
});

describe('keyring', () => {
  const ring = parseKeyring(newKey('a1'));

  it('refuses tampered values and keys it does not have, naming only the key id', () => {
    const sealed = seal(ring, 'secret-token');
    expect(open(ring, sealed)).toBe('secret-token');
    const raw = Buffer.from(sealed.split(':')[3]!, 'base64');
    raw[raw.length - 20]! ^= 1;
    expect(() => open(ring, `enc:v1:a1:${raw.toString('base64')}`)).toThrow(SecretsKeyError);
    // The key id is authenticated: relabelling a value as another key's fails.
    const other = parseKeyring(`b2:${ring.byId.get('a1')!.toString('base64')}`);
    expect(() => open(other, sealed.replace('enc:v1:a1:', 'enc:v1:b2:'))).toThrow(SecretsKeyError);
    const error = (() => {
      try {
        open(parseKeyring(newKey('zz')), sealed);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain('a1');
    expect(error?.message).not.toContain(ring.byId.get('a1')!.toString('base64'));
  });

  it('rejects malformed keys without echoing them', () => {
    expect(() => parseKeyring('k:short')).toThrow(/#1 is not 32 bytes/);
    expect(() => parseKeyring(`${newKey('x')},${newKey('x')}`)).toThrow(/appears twice/);
    const bare = randomBytes(32).toString('base64');
    expect(parseKeyring(bare).current.id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('npm start creates a local key file once; later processes read the same key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-secrets-'));
    try {
      expect(() => resolveKeyring({ dataDir: dir })).toThrow(/CAUSEWAY_SECRETS_KEYS/);
      const created = resolveKeyring({ dataDir: dir, createIfMissing: true });
      expect(created.origin).toBe('created');
      expect(fs.statSync(created.file!).mode & 0o077).toBe(0);
      const again = resolveKeyring({ dataDir: dir, createIfMissing: true });
      expect(again.origin).toBe('local-file');
      expect(again.keyring.current.id).toBe(created.keyring.current.id);
      expect(resolveKeyring({ dataDir: dir, configured: newKey('env') }).keyring.current.id).toBe('env');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('contact-hash keys at rest (issue 18 H)', () => {
  it('are sealed with the keyring, not stored beside the hashes; a plain one is sealed with the same hashes', async () => {
    const tenant = await h.createTestTenant();
    const read = async () =>
      (await h.sql<{ hash_key: string }[]>`select hash_key from tenants where id = ${tenant.tenantId}`)[0]!.hash_key;
    const stored = await read();
    expect(stored).toMatch(new RegExp(`^enc:v1:${keyring().current.id}:`));
    const key = open(keyring(), stored);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const phone = randomPhone();
    const hashBefore = contactHash(key, phone);
    // A row from before this change: the plain key still works, and the next pass seals it (hashes unchanged).
    await h.sql`update tenants set hash_key = ${key} where id = ${tenant.tenantId}`;
    expect(contactHash((await findTenantWithHashKey(h.db, { id: tenant.tenantId }))!.hashKey, phone)).toBe(hashBefore);
    expect((await sealStoredSecrets(h.db)).hashKeysSealed).toBeGreaterThanOrEqual(1);
    const resealed = await read();
    expect(resealed).toMatch(/^enc:v1:/);
    expect(resealed).not.toContain(key);
    expect(contactHash((await findTenantWithHashKey(h.db, { id: tenant.tenantId }))!.hashKey, phone)).toBe(hashBefore);
  });
});
