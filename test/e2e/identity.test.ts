import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateTenant } from '../../src/db/tenants/tenants';
import { aiResults, conversations, promises } from '../../src/db/schema';
import { turn, type ChatRequest } from '../support/fake-openai';
import { launchCampaign, sentToPhones, textOf, useContentTemplates, waitForStatus } from '../support/campaigns';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    { MESSAGE_DEBOUNCE: '100ms', PROMISE_REMINDER_BEFORE: '3s', PROMISE_CHECK_AFTER: '1s' },
    { statusCallbacks: true },
  );
});
afterAll(() => h?.close());

// The target: CPF 123.456.789-09 (last 4: 8909), R$ 1.500,00 due 20/12/2026.
const DEBT = /1[.\s]?500|20\/12/;
const csv = (phone: string) =>
  `phone,name,debt_amount,due_date,cpf\n${phone},Mariana Quintela,"1500,00",2026-12-20,123.456.789-09`;

/** A model that tells whatever its prompt holds: the amount when it has one, a question otherwise. */
function leakyModel(systems: string[]) {
  return (request: ChatRequest) => {
    if (!request.response_format) return turn('resumo');
    const system = request.messages[0]!.content;
    systems.push(system);
    const amount = /Open amount: (R\$\s?[\d.,]+), due ([\d/]+)/.exec(system);
    // Even without the prompt's help it tries: the customer's own words, or a guess it should never send.
    return turn(
      amount ? `Sua fatura é de ${amount[1]} com vencimento em ${amount[2]}.` : 'Sua fatura é de R$ 1.500,00.',
    );
  };
}

const turnsOf = (tenantId: string) =>
  h.db
    .select({ output: aiResults.output })
    .from(aiResults)
    .where(eq(aiResults.tenantId, tenantId))
    .orderBy(asc(aiResults.createdAt));

describe('identity before disclosure (issue 23 E)', () => {
  it('the collection message, the AI reply and a wrong answer carry no debt; the right CPF digits unlock it', async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    // The debtor never wrote: business-initiated WhatsApp needs a Content template for what goes out instead.
    await useContentTemplates(h, tenant, ['collection_notice', 'identity_request']);
    const c = await launchCampaign(h, tenant, csv(phone), {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
    });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const notice = textOf(sentToPhones(h, [phone])[0]!);
    expect(notice).toMatch(/confirme sua identidade/);
    expect(notice).toMatch(/4 últimos dígitos do seu CPF/);
    expect(notice).not.toMatch(DEBT);

    const systems: string[] = [];
    h.openai.setHandler(leakyModel(systems));
    const ask = async (body: string, n: number) => {
      await h.postInbound(tenant, { body, from });
      await h.twilio.waitFor(() => sentToPhones(h, [phone]).length === n, 30_000);
      return textOf(sentToPhones(h, [phone])[n - 1]!);
    };

    // Not confirmed: the prompt holds no debt, and the reply the model invented is replaced.
    const first = await ask('quanto eu devo?', 2);
    expect(first).not.toMatch(DEBT);
    expect(first).toMatch(/confirmar sua identidade/);
    expect(systems.at(-1)).not.toMatch(/Open amount|1\.500|fatura em aberto/);
    expect(systems.at(-1)).toContain('IDENTITY NOT CONFIRMED');

    // A wrong answer: still nothing, and the model is told it did not match.
    const second = await ask('1234', 3);
    expect(second).not.toMatch(DEBT);
    expect(systems.at(-1)).toContain('did not match');

    // The right digits: the same question is answered.
    const third = await ask('8909, quanto eu devo?', 4);
    expect(third).toMatch(/R\$\s?1\.500,00/);
    expect(third).toContain('20/12/2026');
    const [conv] = await h.db.select().from(conversations).where(eq(conversations.tenantId, tenant.tenantId));
    expect(conv!.identityConfirmedAt).not.toBeNull();

    // Each check and its result are in the turn's record.
    const identity = (await turnsOf(tenant.tenantId)).map((r) => (r.output as { identity?: unknown } | null)?.identity);
    expect(identity).toEqual([
      { method: 'cpf-last-digits', result: 'no_answer', disclosed: false, guard: 'reply_replaced' },
      { method: 'cpf-last-digits', result: 'mismatch', disclosed: false, guard: 'reply_replaced' },
      { method: 'cpf-last-digits', result: 'confirmed', disclosed: true, guard: null },
    ]);
    // Nothing of the check's data (the CPF) reached the model.
    expect(systems.join('\n')).not.toMatch(/123\.456|12345678909/);
  });

  it('a promise before confirmation is not registered; a reminder to a contact who never confirmed quotes no debt', async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    await useContentTemplates(h, tenant, ['collection_notice', 'identity_request', 'promise_reminder']);
    const promiseCall = (dueAt: string) => (request: ChatRequest) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [{ name: 'register_promise', arguments: { amount: 1500, due_date: dueAt, method: 'pix' } }],
          }
        : turn('resumo');

    const c = await launchCampaign(h, tenant, csv(phone), {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
    });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    h.openai.setHandler(promiseCall(new Date(Date.now() + 60_000).toISOString()));
    await h.postInbound(tenant, { body: 'pago 1500 amanhã no pix', from });
    await h.twilio.waitFor(() => sentToPhones(h, [phone]).length === 2, 30_000);
    expect(textOf(sentToPhones(h, [phone])[1]!)).toMatch(/confirmar sua identidade/);
    expect(await h.db.select().from(promises).where(eq(promises.tenantId, tenant.tenantId))).toEqual([]);
    const [deferred] = await turnsOf(tenant.tenantId);
    expect(deferred!.output).toMatchObject({ action: { type: 'reply' }, identity: { guard: 'promise_deferred' } });

    // With the check off the promise is made; the tenant then turns the check on before the reminder is due:
    // the contact never confirmed in that conversation, so the reminder asks for identity instead of quoting.
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    h.openai.setHandler(promiseCall(new Date(Date.now() + 6_000).toISOString()));
    await h.postInbound(tenant, { body: 'pago 1500 no pix', from });
    const made = await eventually(
      async () => (await h.db.select().from(promises).where(eq(promises.tenantId, tenant.tenantId))).at(0),
      30_000,
      'the promise',
    );
    expect(made.amountCents).toBe(150_000);
    await updateTenant(h.db, tenant.slug, { identityCheck: 'cpf-last-digits' });
    const before = sentToPhones(h, [phone]).length;
    await h.twilio.waitFor(() => sentToPhones(h, [phone]).length > before + 0, 30_000);
    const later = await eventually(
      () => {
        const texts = sentToPhones(h, [phone]).slice(before).map(textOf);
        return Promise.resolve(texts.find((t) => /identidade/.test(t)) ?? null);
      },
      30_000,
      'the reminder',
    );
    expect(later).not.toMatch(DEBT);
    expect(
      sentToPhones(h, [phone])
        .slice(before)
        .map(textOf)
        .filter((t) => t.startsWith('Lembrete')),
    ).toEqual([]);
  });
});
