import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/domain/address';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { runCli } from '../support/cli';

let h: Harness;

beforeAll(async () => {
  // A short cache TTL so the old token's expiry is observable; a rotation must not wait for it.
  h = await startHarness({}, { api: { tenantCacheTtlMs: 1500 } });
});
afterAll(async () => {
  await h?.close();
});

const cli = (args: string[], input?: string) => runCli(h, args, input);

describe('causeway tenant update / show', () => {
  it('rotating the auth token: webhooks signed with the new token are accepted at once, the old ones refused, no restart', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    // The old token is in the API's cache now.
    expect((await h.postInbound(tenant, { body: 'antes', from })).response.status).toBe(200);

    const newToken = randomBytes(16).toString('hex');
    const rotated = await cli(['tenant', 'update', tenant.slug, '--rotate-auth-token', '-'], `${newToken}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('auth token rotated');
    expect(rotated.stdout).not.toContain(newToken);
    h.twilio.addAccount(tenant.accountSid, newToken);

    // Signed with the new token: accepted immediately, although the old token is still cached.
    expect((await h.postInbound(tenant, { body: 'depois', from }, { authToken: newToken })).response.status).toBe(200);
    expect(
      (
        await h.postStatus(
          { ...tenant, authToken: newToken },
          { MessageSid: `SM${randomBytes(16).toString('hex')}`, MessageStatus: 'delivered' },
        )
      ).status,
    ).toBe(204);
    // Signed with the old one: refused once the cache has the new token (within the TTL, without a restart).
    await eventually(
      async () => (await h.postInbound(tenant, { body: 'velho', from })).response.status === 403,
      10_000,
      'the old token to be refused',
    );
    expect((await h.postInbound(tenant, { body: 'novo', from }, { authToken: newToken })).response.status).toBe(200);
  });

  it('renames, adds and removes numbers, shows the tenant without its token, and refuses bad changes', async () => {
    const tenant = await h.createTestTenant();
    const extra = randomPhone();
    const added = await cli([
      'tenant',
      'update',
      tenant.slug,
      '--name',
      'Acme Cobrança',
      '--add-number',
      `whatsapp:${extra}`,
    ]);
    expect(added.code, added.stderr).toBe(0);
    const shown = await cli(['tenant', 'show', tenant.slug, '--json']);
    const details = JSON.parse(shown.stdout) as {
      name: string;
      accounts: { accountSid: string; numbers: { channel: string; phone: string }[] }[];
    };
    expect(details.name).toBe('Acme Cobrança');
    expect(details.accounts[0]!.numbers).toContainEqual({ channel: 'whatsapp', phone: extra });
    expect(shown.stdout).not.toContain(tenant.authToken);

    // The added number receives messages for this tenant.
    const from = `whatsapp:${randomPhone()}`;
    expect(
      (await h.postInbound(tenant, { body: 'oi', from, to: formatAddress('whatsapp', extra) })).response.status,
    ).toBe(200);
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.from === formatAddress('whatsapp', extra)));

    const other = await h.createTestTenant();
    const taken = await cli(['tenant', 'update', tenant.slug, '--add-number', other.address]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('belongs to another tenant');
    const notOwned = await cli(['tenant', 'update', tenant.slug, '--remove-number', `whatsapp:${randomPhone()}`]);
    expect(notOwned.code).toBe(1);
    expect(notOwned.stderr).toContain('does not own');
    const nothing = await cli(['tenant', 'update', tenant.slug]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to change');
    const unknown = await cli(['tenant', 'show', 'no-such-tenant']);
    expect(unknown.code).toBe(1);

    const removed = await cli(['tenant', 'update', tenant.slug, '--remove-number', `whatsapp:${extra}`]);
    expect(removed.code, removed.stderr).toBe(0);
    // The removed number is no longer the tenant's: a message to it is kept as an orphan, answered by nobody.
    await eventually(
      async () => {
        const r = await h.postInbound(tenant, { body: 'ainda?', from, to: formatAddress('whatsapp', extra) });
        return (
          r.response.status === 200 &&
          (await h.sql`SELECT 1 FROM orphan_inbound WHERE message_sid = ${r.messageSid}`).length === 1
        );
      },
      10_000,
      'the removed number to be an orphan',
    );
  });
});
