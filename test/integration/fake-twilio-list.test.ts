import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioGateway, type ListedMessage } from '../../src/integrations/twilio-gateway';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio';
import { randomPhone } from '../support/harness';

// The fake's Messages list against the real twilio SDK (through the gateway): Twilio's paging, order and filters.
let twilio: FakeTwilio;
let gateway: ReturnType<typeof createTwilioGateway>;
beforeAll(async () => {
  twilio = await startFakeTwilio();
  gateway = createTwilioGateway({ apiBaseUrl: twilio.url, timeoutMs: 5000 });
});
afterAll(async () => {
  await twilio?.close();
});

function newAccount() {
  const credentials = {
    accountSid: `AC${randomBytes(16).toString('hex')}`,
    authToken: randomBytes(16).toString('hex'),
  };
  twilio.addAccount(credentials.accountSid, credentials.authToken);
  return credentials;
}

/** `count` inbound messages, one second apart, the newest `newestAgoMs` before now (on a whole second). */
function receiveMany(accountSid: string, count: number, newestAgoMs: number) {
  const newest = Math.floor((Date.now() - newestAgoMs) / 1000) * 1000;
  const to = `whatsapp:${randomPhone()}`;
  const sids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const sid = newMessageSid();
    sids.push(sid);
    twilio.receive({
      sid,
      accountSid,
      from: `whatsapp:${randomPhone()}`,
      to,
      body: `m${i}`,
      dateCreated: new Date(newest - (count - 1 - i) * 1000),
    });
  }
  return { to, newest, sids: sids.reverse() }; // newest first
}

async function collect(pages: AsyncGenerator<{ messages: ListedMessage[]; hasMore: boolean }>) {
  const seen: { messages: ListedMessage[]; hasMore: boolean }[] = [];
  for await (const page of pages) seen.push(page);
  return seen;
}

async function raw(accountSid: string, authToken: string, query: string) {
  const response = await fetch(`${twilio.url}/2010-04-01/Accounts/${accountSid}/Messages.json?${query}`, {
    headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

describe('fake Twilio Messages list', () => {
  it('pages newest first through the SDK, with DateSent> bounding the window and a page limit bounding the run', async () => {
    const account = newAccount();
    const { sids, newest } = receiveMany(account.accountSid, 7, 60_000);
    // DateSent> is "on or after": the fifth message is sent exactly at `since`, the last two before it.
    const since = new Date(newest - 4000);
    const pages = await collect(gateway.listSince(account, { since, pageSize: 2, maxPages: 10 }));
    expect(pages.map((p) => p.messages.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(pages.flatMap((p) => p.messages.map((m) => m.sid))).toEqual(sids.slice(0, 5));

    const bounded = await collect(gateway.listSince(account, { since, pageSize: 2, maxPages: 2 }));
    expect(bounded.map((p) => p.messages.length)).toEqual([2, 2]);
    expect(bounded.at(-1)!.hasMore).toBe(true);
  });

  it('continues after the last message of the previous page while new messages arrive (PageToken)', async () => {
    const account = newAccount();
    const { to, sids } = receiveMany(account.accountSid, 5, 10_000);
    const listed: string[] = [];
    for await (const page of gateway.listSince(account, {
      since: new Date(Date.now() - 3_600_000),
      pageSize: 2,
      maxPages: 10,
    })) {
      if (listed.length === 0)
        twilio.receive({
          sid: newMessageSid(),
          accountSid: account.accountSid,
          from: `whatsapp:${randomPhone()}`,
          to,
          body: 'late',
        });
      listed.push(...page.messages.map((m) => m.sid));
    }
    expect(listed).toEqual(sids);
  });

  it("returns Twilio's paging fields and rejects a PageSize outside 1–1000", async () => {
    const account = newAccount();
    receiveMany(account.accountSid, 3, 0);
    const first = await raw(account.accountSid, account.authToken, 'PageSize=2');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(first.json.first_page_uri).toBe(
      `/2010-04-01/Accounts/${account.accountSid}/Messages.json?PageSize=2&Page=0`,
    );
    expect(first.json.next_page_uri).toMatch(
      new RegExp(
        `^/2010-04-01/Accounts/${account.accountSid}/Messages\\.json\\?PageSize=2&Page=1&PageToken=PA(SM|MM)[0-9a-f]{32}$`,
      ),
    );
    const second = await raw(account.accountSid, account.authToken, first.json.next_page_uri.split('?')[1]);
    expect(second.json).toMatchObject({ page: 1, page_size: 2, start: 2, end: 2, next_page_uri: null });
    expect(second.json.previous_page_uri).toMatch(/PageToken=PB/);
    expect(second.json.messages).toHaveLength(1);

    expect((await raw(account.accountSid, account.authToken, '')).json.page_size).toBe(50);
    for (const bad of ['0', '1001', '-1', '2.5', 'x']) {
      const response = await raw(account.accountSid, account.authToken, `PageSize=${bad}`);
      expect(response.status, `PageSize=${bad}`).toBe(400);
      expect(response.json.code).toBe(20001);
    }
    expect((await raw(account.accountSid, account.authToken, 'PageSize=1000')).status).toBe(200);
    expect((await raw(account.accountSid, account.authToken, 'DateSent=yesterday')).status).toBe(400);
  });

  it('filters DateSent by GMT day or instant, To and From; unsent outbound messages have no date_sent', async () => {
    const account = newAccount();
    const to = `whatsapp:${randomPhone()}`;
    const from = `whatsapp:${randomPhone()}`;
    const yesterday = new Date(Date.now() - 86_400_000);
    const old = newMessageSid();
    const recent = newMessageSid();
    twilio.receive({ sid: old, accountSid: account.accountSid, from, to, body: 'old', dateCreated: yesterday });
    twilio.receive({ sid: recent, accountSid: account.accountSid, from, to, body: 'now', dateCreated: new Date() });
    const outbound = await gateway.send(account, { from: to, to: from, body: 'reply' });
    const day = yesterday.toISOString().slice(0, 10);
    const sidsOf = async (query: string) =>
      (await raw(account.accountSid, account.authToken, query)).json.messages.map((m: { sid: string }) => m.sid);

    expect(await sidsOf(`DateSent=${day}`)).toEqual([old]);
    expect(await sidsOf(`${encodeURIComponent('DateSent<')}=${day}`)).toEqual([old]);
    expect(await sidsOf(`${encodeURIComponent('DateSent>')}=${day}`)).toEqual([recent, old]);
    expect(
      await sidsOf(
        `${encodeURIComponent('DateSent>')}=${new Date(Date.now() - 3_600_000).toISOString().slice(0, 19)}Z`,
      ),
    ).toEqual([recent]);
    // No DateSent filter: the queued outbound message is listed too (newest first).
    expect(await sidsOf('')).toEqual([outbound.sid, recent, old]);
    expect(await sidsOf(`From=${encodeURIComponent(to)}`)).toEqual([outbound.sid]);
    expect(await sidsOf(`To=${encodeURIComponent(to)}`)).toEqual([recent, old]);
  });

  it('renders inbound messages as Twilio does, with their media as a subresource', async () => {
    const account = newAccount();
    const sid = newMessageSid().replace(/^SM/, 'MM');
    const to = `whatsapp:${randomPhone()}`;
    twilio.receive({
      sid,
      accountSid: account.accountSid,
      from: `whatsapp:${randomPhone()}`,
      to,
      body: '',
      media: [{ contentType: 'image/jpeg' }],
    });
    const { json } = await raw(account.accountSid, account.authToken, `To=${encodeURIComponent(to)}`);
    expect(json.messages[0]).toMatchObject({
      sid,
      direction: 'inbound',
      status: 'received',
      num_media: '1',
      to,
      body: '',
    });
    expect(json.messages[0].date_sent).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    const [listed] = (
      await collect(gateway.listSince(account, { since: new Date(Date.now() - 60_000), pageSize: 50, maxPages: 1 }))
    )[0]!.messages;
    expect(listed).toMatchObject({ sid, direction: 'inbound', status: 'received', numMedia: 1 });
    expect(listed!.dateSent).toBeInstanceOf(Date);
    const media = await gateway.media(account, sid);
    expect(media).toEqual([
      {
        url: expect.stringMatching(
          new RegExp(
            `^https://api\\.twilio\\.com/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}/Media/ME[0-9a-f]{32}$`,
          ),
        ),
        contentType: 'image/jpeg',
      },
    ]);
  });
});
