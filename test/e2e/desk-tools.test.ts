import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setContentTemplate } from '../../src/db/outbound/content-templates';
import { blankNotesBefore } from '../../src/db/conversations/notes';
import { contacts, conversationNotes, conversations, messages } from '../../src/db/schema';
import { createUser } from '../../src/db/operators/users';
import { conversationOf } from '../support/conversation';
import { seedConversation } from '../support/desk-data';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 20 E through the JSON API: canned responses, internal notes, search with paging, CSV export, outreach.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
});
afterAll(async () => {
  await h?.close();
});

async function operator(tenant: TestTenant, role: 'AGENT' | 'SUPERVISOR' | 'ADMIN', department: string | null) {
  const name = `${role.toLowerCase()} ${Math.random().toString(36).slice(2, 6)}`;
  const { user, apiKey } = await createUser(h.db, { tenantId: tenant.tenantId, name, role, department });
  return { id: user.id, name, apiKey };
}

const csvRows = (text: string) => parse<Record<string, string>>(text, { columns: true });

async function fetchCsv(path: string, key: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.apiUrl}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('agent tools API (issue 20 E)', () => {
  it('canned responses: supervisors manage them, agents see their department and the general ones, rendered', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await operator(tenant, 'SUPERVISOR', null);
    const agent = await operator(tenant, 'AGENT', 'billing');
    const add = (body: Record<string, unknown>, key = supervisor.apiKey) => h.api('/api/canned', { key, body });
    expect((await add({ title: 'x', body: 'y' }, agent.apiKey)).status).toBe(403);
    expect((await add({ title: 'bad', body: 'Oi {{cpf}}' })).json.error.message).toMatch(/unknown variables: cpf/);
    expect(
      (await add({ title: 'greet', body: 'Olá {{first_name}}, aqui é {{ agent_name }} ({{department}}).' })).status,
    ).toBe(201);
    expect((await add({ title: 'boleto', body: 'Segue o boleto, {{name}}.', department: 'billing' })).status).toBe(201);
    expect((await add({ title: 'tech', body: 'Reinicie o modem.', department: 'support' })).status).toBe(201);
    // Same title and department: the body is replaced, not duplicated.
    expect(
      (await add({ title: 'boleto', body: 'Segue o boleto atualizado, {{name}}.', department: 'billing' })).status,
    ).toBe(201);

    const listed = await h.api('/api/canned', { key: agent.apiKey });
    expect(listed.json.canned.map((r: { title: string }) => r.title).sort()).toEqual(['boleto', 'greet']);
    expect((await h.api('/api/canned', { key: supervisor.apiKey })).json.canned).toHaveLength(3);

    const c = await seedConversation(h, tenant, {
      phone: randomPhone(),
      name: 'Maria Souza',
      status: 'HUMAN',
      department: 'billing',
      agentId: agent.id,
      startedAt: new Date(),
      transferredAt: new Date(),
      firstAgentAt: null,
      closedAt: null,
      slaBreaches: 0,
      nps: null,
    });
    const rendered = await h.api(`/api/canned?conversation=${c.id}`, { key: agent.apiKey });
    const byTitle = Object.fromEntries(
      rendered.json.canned.map((r: { title: string; text: string }) => [r.title, r.text]),
    );
    expect(byTitle).toEqual({
      greet: `Olá Maria, aqui é ${agent.name} (billing).`,
      boleto: 'Segue o boleto atualizado, Maria Souza.',
    });

    const id = listed.json.canned.find((r: { title: string }) => r.title === 'greet').id as string;
    expect((await h.api(`/api/canned/${id}`, { method: 'DELETE', key: agent.apiKey })).status).toBe(403);
    expect((await h.api(`/api/canned/${id}`, { method: 'DELETE', key: supervisor.apiKey })).status).toBe(204);
    expect((await h.api(`/api/canned/${id}`, { method: 'DELETE', key: supervisor.apiKey })).status).toBe(404);
  });

  it('a note is shown to agents, never sent, never in the AI context; erasure and retention blank it', async () => {
    const tenant = await h.createTestTenant();
    const agent = await operator(tenant, 'AGENT', 'support');
    const admin = await operator(tenant, 'ADMIN', null);
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'oi, minha fatura veio errada', from });
    const workflowId = await conversationOf(h, messageSid);
    const conversation = await eventually(async () => {
      const [row] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
      return row;
    });
    await eventually(() => Promise.resolve(h.openai.requests.length > 0 || null));
    const secret = `NOTE-${Math.random().toString(36).slice(2, 10)} cliente nervoso, oferecer desconto`;
    expect(
      (await h.api(`/api/conversations/${conversation.id}/notes`, { key: agent.apiKey, body: { body: ' ' } })).status,
    ).toBe(400);
    const added = await h.api(`/api/conversations/${conversation.id}/notes`, {
      key: agent.apiKey,
      body: { body: secret },
    });
    expect(added.status).toBe(201);
    const notes = await h.api(`/api/conversations/${conversation.id}/notes`, { key: agent.apiKey });
    expect(notes.json.notes).toEqual([
      expect.objectContaining({ body: secret, author: agent.name, authorId: agent.id }),
    ]);

    // The next turn's prompt does not carry it, nor does anything sent or stored as a message.
    const before = h.openai.requests.length;
    await h.postInbound(tenant, { body: 'e então?', from });
    await eventually(() => Promise.resolve(h.openai.requests.length > before || null), 15_000, 'second AI turn');
    for (const request of h.openai.requests) expect(JSON.stringify(request)).not.toContain('NOTE-');
    expect(h.twilio.sent.some((m) => (m.body ?? '').includes('NOTE-'))).toBe(false);
    const stored = await h.db
      .select({ body: messages.body })
      .from(messages)
      .where(eq(messages.conversationId, conversation.id));
    expect(stored.some((m) => m.body.includes('NOTE-'))).toBe(false);

    // Retention: notes older than the cutoff lose their text.
    const other = await h.api(`/api/conversations/${conversation.id}/notes`, {
      key: agent.apiKey,
      body: { body: 'old note' },
    });
    await h.db
      .update(conversationNotes)
      .set({ createdAt: new Date(Date.now() - 400 * 86_400_000) })
      .where(eq(conversationNotes.id, other.json.note.id));
    expect(await blankNotesBefore(h.db, new Date(Date.now() - 365 * 86_400_000), 1000)).toBeGreaterThanOrEqual(1);
    const [blanked] = await h.db.select().from(conversationNotes).where(eq(conversationNotes.id, other.json.note.id));
    expect(blanked!.body).toBe('');

    // Erasure of the contact: the remaining note is anonymized like the messages.
    const erased = await h.api(`/api/contacts/${encodeURIComponent(phone)}`, {
      method: 'DELETE',
      key: admin.apiKey,
      body: { reason: 'LGPD ticket notes' },
    });
    expect(erased.status).toBe(202);
    await h.client.workflow.getHandle(erased.json.erasure.workflowId).result();
    const [note] = await h.db.select().from(conversationNotes).where(eq(conversationNotes.id, added.json.note.id));
    expect(note!.body).toBe('[erased]');
  });

  it('search: words in messages (Portuguese stemming) and names, exact phone, status, dates, paging, department scope', async () => {
    const tenant = await h.createTestTenant();
    const agent = await operator(tenant, 'AGENT', 'support');
    const supervisor = await operator(tenant, 'SUPERVISOR', null);
    const day = (d: number) => new Date(Date.UTC(2026, 10, d, 12));
    const seed = (over: Partial<Parameters<typeof seedConversation>[2]>) =>
      seedConversation(h, tenant, {
        phone: randomPhone(),
        name: null,
        status: 'RESOLVED',
        department: 'support',
        agentId: null,
        startedAt: day(1),
        transferredAt: null,
        firstAgentAt: null,
        closedAt: null,
        slaBreaches: 0,
        nps: null,
        ...over,
      });
    const a = await seed({ name: 'Joana Prado', bodies: ['As faturas chegaram duplicadas'], startedAt: day(2) });
    const b = await seed({
      name: 'Carlos Lima',
      bodies: ['quero cancelar o plano'],
      startedAt: day(3),
      status: 'HUMAN',
    });
    const c = await seed({ name: 'Ana Fatura', bodies: ['olá'], startedAt: day(4), department: 'billing' });
    const d = await seed({ bodies: ['minha fatura está errada'], startedAt: day(5), department: 'billing' });
    const ids = (r: { json: Record<string, any> }) => (r.json.conversations as { id: string }[]).map((x) => x.id);

    // "fatura" finds "faturas" (stemming) and the contact named Fatura; newest first; the agent sees support only.
    expect(ids(await h.api('/api/conversations?q=fatura', { key: supervisor.apiKey }))).toEqual([d.id, c.id, a.id]);
    expect(ids(await h.api('/api/conversations?q=fatura', { key: agent.apiKey }))).toEqual([a.id]);
    expect(ids(await h.api('/api/conversations?q=joana', { key: agent.apiKey }))).toEqual([a.id]);
    expect(ids(await h.api(`/api/conversations?phone=${encodeURIComponent(b.phone)}`, { key: agent.apiKey }))).toEqual([
      b.id,
    ]);
    // A prefix of the number matches nothing: exact numbers only.
    expect(
      ids(
        await h.api(`/api/conversations?phone=${encodeURIComponent(b.phone.slice(0, -1))}`, { key: supervisor.apiKey }),
      ),
    ).toEqual([]);
    expect(ids(await h.api('/api/conversations?status=HUMAN', { key: supervisor.apiKey }))).toEqual([b.id]);
    expect(ids(await h.api('/api/conversations?from=2026-11-03&to=2026-11-05', { key: supervisor.apiKey }))).toEqual([
      c.id,
      b.id,
    ]);
    expect(ids(await h.api('/api/conversations?department=billing&q=errada', { key: supervisor.apiKey }))).toEqual([
      d.id,
    ]);
    expect((await h.api('/api/conversations?phone=5511', { key: agent.apiKey })).status).toBe(400);
    expect((await h.api('/api/conversations?from=yesterday', { key: agent.apiKey })).status).toBe(400);
    expect((await h.api('/api/conversations?cursor=garbage', { key: agent.apiKey })).status).toBe(400);

    // Paging: limit 3 then the cursor; every row once, in order.
    const first = await h.api('/api/conversations?limit=3', { key: supervisor.apiKey });
    expect(ids(first)).toEqual([d.id, c.id, b.id]);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const second = await h.api(`/api/conversations?limit=3&cursor=${first.json.nextCursor}`, {
      key: supervisor.apiKey,
    });
    expect(ids(second)).toEqual([a.id]);
    expect(second.json.nextCursor).toBeNull();
  });

  it('CSV export: supervisors and admins only, streamed, phones masked unless ADMIN, formula cells defused', async () => {
    const tenant = await h.createTestTenant();
    const agent = await operator(tenant, 'AGENT', 'support');
    const supervisor = await operator(tenant, 'SUPERVISOR', null);
    const admin = await operator(tenant, 'ADMIN', null);
    const seeded: Awaited<ReturnType<typeof seedConversation>>[] = [];
    for (let i = 0; i < 7; i++)
      seeded.push(
        await seedConversation(h, tenant, {
          phone: `+55119${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
          name: i === 0 ? '=HYPERLINK("http://x")' : `Cliente ${i}`,
          status: 'RESOLVED',
          department: 'support',
          agentId: null,
          startedAt: new Date(Date.UTC(2026, 10, 1 + i)),
          transferredAt: null,
          firstAgentAt: null,
          closedAt: null,
          slaBreaches: 0,
          nps: null,
        }),
      );
    expect((await fetchCsv('/api/conversations/export', agent.apiKey)).status).toBe(403);
    const masked = await fetchCsv('/api/conversations/export?from=2026-11-02', supervisor.apiKey);
    expect(masked.status).toBe(200);
    expect(masked.type).toMatch(/^text\/csv/);
    const rows = csvRows(masked.text);
    expect(rows.map((r) => r.conversation_id)).toEqual(
      seeded
        .slice(1)
        .reverse()
        .map((s) => s.id),
    );
    for (const r of rows) {
      expect(r.contact_phone).toMatch(/^\+55\*{9}\d{2}$/);
      const s = seeded.find((x) => x.id === r.conversation_id)!;
      expect(r.contact_phone!.slice(-2)).toBe(s.phone.slice(-2));
      expect(r.started_at).toBe(s.startedAt.toISOString());
    }
    const full = csvRows((await fetchCsv('/api/conversations/export', admin.apiKey)).text);
    expect(full).toHaveLength(7);
    expect(full.find((r) => r.conversation_id === seeded[0]!.id)).toMatchObject({
      contact_phone: seeded[0]!.phone,
      contact_name: `'=HYPERLINK("http://x")`,
    });
  });

  it('outreach: SMS text and an approved WhatsApp template with its variables, once per key; refusals explained', async () => {
    const tenant = await h.createTestTenant();
    const agent = await operator(tenant, 'AGENT', 'support');
    const sms = randomPhone();
    const sent = await h.api('/api/outreach', {
      key: agent.apiKey,
      body: { phone: sms, channel: 'sms', name: 'Paulo', body: 'Olá, podemos falar sobre seu pedido?', key: 'k-sms-1' },
    });
    expect(sent.status).toBe(201);
    expect(sent.json.outreach).toMatchObject({ status: expect.any(String), messageId: expect.any(String) });
    const again = await h.api('/api/outreach', {
      key: agent.apiKey,
      body: { phone: sms, channel: 'sms', body: 'Olá, podemos falar sobre seu pedido?', key: 'k-sms-1' },
    });
    expect(again.json.outreach.messageId).toBe(sent.json.outreach.messageId);
    const toSms = h.twilio.sent.filter((m) => m.to === sms);
    expect(toSms).toHaveLength(1);
    expect(toSms[0]).toMatchObject({ from: tenant.phone, body: `${agent.name}: Olá, podemos falar sobre seu pedido?` });
    const [contact] = await h.db
      .select()
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, sms)));
    expect(contact!.name).toBe('Paulo');
    const [stored] = await h.db.select().from(messages).where(eq(messages.id, sent.json.outreach.messageId));
    expect(stored).toMatchObject({ sentBy: 'agent', authorId: agent.id, conversationId: null, direction: 'outbound' });

    // WhatsApp: only through a configured template, every variable filled (name/agent_name filled by the service).
    const wa = randomPhone();
    const waBody = {
      phone: wa,
      channel: 'whatsapp',
      name: 'Rita Alves',
      purpose: 'reengage',
      variables: { amount: '120,00' },
    };
    const none = await h.api('/api/outreach', { key: agent.apiKey, body: waBody });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toMatch(/no WhatsApp template for purpose "reengage"/);
    await setContentTemplate(h.db, {
      tenantId: tenant.tenantId,
      purpose: 'reengage',
      contentSid: `HX${'a'.repeat(32)}`,
      variables: { '1': 'first_name', '2': 'amount', '3': 'agent_name', '4': 'due' },
    });
    const missing = await h.api('/api/outreach', { key: agent.apiKey, body: waBody });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/variables: due/);
    const ok = await h.api('/api/outreach', {
      key: agent.apiKey,
      body: { ...waBody, variables: { amount: '120,00', due: '10/12' } },
    });
    expect(ok.status).toBe(201);
    const toWa = h.twilio.sent.filter((m) => m.to === `whatsapp:${wa}`);
    expect(toWa).toHaveLength(1);
    expect(toWa[0]).toMatchObject({
      from: tenant.address,
      contentSid: `HX${'a'.repeat(32)}`,
      contentVariables: { '1': 'Rita', '2': '120,00', '3': agent.name, '4': '10/12' },
    });
    expect((await h.api('/api/outreach/templates', { key: agent.apiKey })).json.templates).toEqual([
      {
        purpose: 'reengage',
        contentSid: `HX${'a'.repeat(32)}`,
        variables: ['first_name', 'amount', 'agent_name', 'due'],
      },
    ]);

    // An opted-out contact is not contacted; a bad number is refused without a call.
    await h.db
      .update(contacts)
      .set({ optedOutAt: new Date(), optOutSource: 'keyword' })
      .where(eq(contacts.id, contact!.id));
    const stopped = await h.api('/api/outreach', {
      key: agent.apiKey,
      body: { phone: sms, channel: 'sms', body: 'oi' },
    });
    expect(stopped.status).toBe(409);
    expect(
      (await h.api('/api/outreach', { key: agent.apiKey, body: { phone: '11999', channel: 'sms', body: 'oi' } }))
        .status,
    ).toBe(400);
    expect(h.twilio.sent.filter((m) => m.to === sms)).toHaveLength(1);
  });
});
