// Issue 21: the outbound policy's data: what the gate reads before a send (one statement), its decision rows,
// do-not-contact lists and a tenant's narrowing.
import { and, asc, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import {
  aiResults,
  campaignTargets,
  contacts,
  dncEntries,
  messages,
  outbox,
  sendDecisions,
  tenantPolicies,
  tenants,
  users,
} from '../schema';

export interface PolicyContextRow {
  optedOut: boolean;
  suppressed: boolean;
  contactTimeZone: string | null;
  dnc: Array<{ list: string; scope: 'procon-sp' | 'nao-me-perturbe' | 'tenant'; registeredAt: string | null }>;
  policy: TenantPolicyRow | null;
  today: number;
  thisWeek: number;
  lastInboundAt: Date | null;
  /** This send's earlier decision (a retried activity, a held send waking up). */
  previous: { decision: 'send' | 'hold' | 'refuse' } | null;
}

export type TenantPolicyRow = typeof tenantPolicies.$inferSelect;

/** Everything the gate needs about one send, in one statement. */
export async function loadPolicyContext(
  db: DbOrTx,
  input: {
    tenantId: string;
    contactId: string;
    phone: string | null;
    channel: 'sms' | 'whatsapp';
    tenantAddress: string;
    idempotencyKey: string;
    dayStart: Date;
    weekStart: Date;
  },
): Promise<PolicyContextRow> {
  const c = contacts;
  const rows = await db.execute<{
    opted_out: boolean | null;
    suppressed: boolean | null;
    time_zone: string | null;
    dnc: PolicyContextRow['dnc'] | null;
    policy: Record<string, unknown> | null;
    today: string | number;
    this_week: string | number;
    last_inbound_at: string | Date | null;
    previous: string | null;
  }>(sql`
    select
      (select ${c.optedOutAt} is not null from ${c} where ${c.id} = ${input.contactId}) as opted_out,
      (select ${c.optOutSource} = 'suppression' from ${c} where ${c.id} = ${input.contactId})
        or exists (select 1 from contact_suppressions s join ${c} on s.tenant_id = ${c.tenantId} and s.phone_hash = ${c.phoneHash}
                   where ${c.id} = ${input.contactId}) as suppressed,
      (select ${c.timeZone} from ${c} where ${c.id} = ${input.contactId}) as time_zone,
      (select json_agg(json_build_object('list', d.list, 'scope', d.scope, 'registeredAt', d.registered_at))
         from dnc_entries d where d.phone = ${input.phone ?? ''} and (d.tenant_id is null or d.tenant_id = ${input.tenantId})) as dnc,
      (select row_to_json(p) from tenant_policies p where p.tenant_id = ${input.tenantId}) as policy,
      (select count(*) from send_decisions sd where sd.contact_id = ${input.contactId} and sd.decision = 'send'
         and sd.business_initiated and sd.purpose in ('collection', 'marketing')
         and sd.decided_at >= ${input.dayStart.toISOString()} and sd.idempotency_key <> ${input.idempotencyKey}) as today,
      (select count(*) from send_decisions sd where sd.contact_id = ${input.contactId} and sd.decision = 'send'
         and sd.business_initiated and sd.purpose in ('collection', 'marketing')
         and sd.decided_at >= ${input.weekStart.toISOString()} and sd.idempotency_key <> ${input.idempotencyKey}) as this_week,
      (select max(m.created_at) from ${messages} m where m.contact_id = ${input.contactId} and m.direction = 'inbound'
         and m.channel = ${input.channel} and m.to_address = ${input.tenantAddress}) as last_inbound_at,
      (select sd.decision from send_decisions sd where sd.idempotency_key = ${input.idempotencyKey}) as previous
  `);
  const r = rows[0]!;
  const policy = r.policy
    ? {
        tenantId: input.tenantId,
        collectionHours: (r.policy.collection_hours as string | null) ?? null,
        marketingHours: (r.policy.marketing_hours as string | null) ?? null,
        utilityHours: (r.policy.utility_hours as string | null) ?? null,
        maxPerDay: (r.policy.max_per_day as number | null) ?? null,
        maxPerWeek: (r.policy.max_per_week as number | null) ?? null,
        updatedAt: new Date(r.policy.updated_at as string),
      }
    : null;
  return {
    optedOut: r.opted_out === true,
    suppressed: r.suppressed === true,
    contactTimeZone: r.time_zone,
    dnc: r.dnc ?? [],
    policy,
    today: Number(r.today),
    thisWeek: Number(r.this_week),
    lastInboundAt: r.last_inbound_at ? new Date(r.last_inbound_at) : null,
    previous: r.previous ? { decision: r.previous as 'send' | 'hold' | 'refuse' } : null,
  };
}

export type SendDecisionInsert = Omit<typeof sendDecisions.$inferInsert, 'id' | 'createdAt' | 'holds'>;

/** Records (or updates) the decision for one send; a decision after a hold counts the hold. */
export async function recordSendDecision(db: DbOrTx, row: SendDecisionInsert): Promise<void> {
  await sendDecisionUpsert(db, row);
}

/** The statement of recordSendDecision, unrun: the sender embeds it in its first statement (issue 25 A). */
export function sendDecisionUpsert(db: DbOrTx, row: SendDecisionInsert) {
  return db
    .insert(sendDecisions)
    .values(row)
    .onConflictDoUpdate({
      target: sendDecisions.idempotencyKey,
      set: {
        decision: row.decision,
        holdUntil: row.holdUntil ?? null,
        reason: row.reason ?? null,
        checks: row.checks,
        rulesVersion: row.rulesVersion,
        decidedAt: row.decidedAt,
        holds: sql`${sendDecisions.holds} + case when ${sendDecisions.decision} = 'hold' then 1 else 0 end`,
      },
      // A send already decided `send` stays decided: its retries must not be held after the message went out.
      setWhere: sql`${sendDecisions.decision} <> 'send'`,
    });
}

export async function getTenantPolicy(db: DbOrTx, tenantId: string): Promise<TenantPolicyRow | null> {
  const [row] = await db.select().from(tenantPolicies).where(eq(tenantPolicies.tenantId, tenantId));
  return row ?? null;
}

export async function upsertTenantPolicy(
  db: DbOrTx,
  tenantId: string,
  set: Partial<Omit<TenantPolicyRow, 'tenantId' | 'updatedAt'>>,
): Promise<TenantPolicyRow> {
  const [row] = await db
    .insert(tenantPolicies)
    .values({ tenantId, ...set })
    .onConflictDoUpdate({ target: tenantPolicies.tenantId, set: { ...set, updatedAt: sql`now()` } })
    .returning();
  return row!;
}

/** Imports one list's entries in one statement per chunk; re-importing a number keeps its first registration date. */
export async function importDncEntries(
  db: DbOrTx,
  entries: Array<{
    tenantId: string | null;
    list: string;
    scope: 'procon-sp' | 'nao-me-perturbe' | 'tenant';
    phone: string;
    registeredAt: Date | null;
  }>,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < entries.length; i += 1000) {
    const rows = await db
      .insert(dncEntries)
      .values(entries.slice(i, i + 1000))
      .onConflictDoNothing()
      .returning({ id: dncEntries.id });
    inserted += rows.length;
  }
  return inserted;
}

export async function listDncLists(db: DbOrTx, tenantId: string | null) {
  return db
    .select({
      tenantSlug: tenants.slug,
      list: dncEntries.list,
      scope: dncEntries.scope,
      entries: sql<number>`count(*)::int`,
      lastImportedAt: sql<Date>`max(${dncEntries.importedAt})`,
    })
    .from(dncEntries)
    .leftJoin(tenants, eq(tenants.id, dncEntries.tenantId))
    .where(tenantId ? or(isNull(dncEntries.tenantId), eq(dncEntries.tenantId, tenantId)) : undefined)
    .groupBy(tenants.slug, dncEntries.list, dncEntries.scope)
    .orderBy(asc(dncEntries.list));
}

/** A message by id or Twilio SID, with its decision, delivery status and what wrote it (for `causeway why`). */
export async function findSendDecision(db: DbOrTx, ref: string, tenantId?: string) {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  const [m] = await db
    .select({
      id: messages.id,
      tenantId: messages.tenantId,
      contactId: messages.contactId,
      conversationId: messages.conversationId,
      providerSid: messages.providerSid,
      sentBy: messages.sentBy,
      status: messages.status,
      errorCode: messages.errorCode,
      correlationId: messages.correlationId,
      createdAt: messages.createdAt,
      authorId: messages.authorId,
      campaignTargetId: messages.campaignTargetId,
      idempotencyKey: outbox.idempotencyKey,
    })
    .from(messages)
    .leftJoin(outbox, eq(outbox.messageId, messages.id))
    .where(
      and(
        eq(messages.direction, 'outbound'),
        uuid ? eq(messages.id, ref) : eq(messages.providerSid, ref),
        tenantId ? eq(messages.tenantId, tenantId) : undefined,
      ),
    )
    .limit(1);
  if (!m) return null;
  const [decision] = m.idempotencyKey
    ? await db.select().from(sendDecisions).where(eq(sendDecisions.idempotencyKey, m.idempotencyKey))
    : [];
  const [ai] =
    m.sentBy === 'ai'
      ? await db
          .select({
            id: aiResults.id,
            model: aiResults.model,
            provider: aiResults.provider,
            promptVersionId: aiResults.promptVersionId,
            promptTokens: aiResults.promptTokens,
            completionTokens: aiResults.completionTokens,
          })
          .from(aiResults)
          .where(and(eq(aiResults.correlationId, m.correlationId), eq(aiResults.status, 'ok')))
          .orderBy(desc(aiResults.createdAt))
          .limit(1)
      : [];
  const [agent] = m.authorId
    ? await db.select({ id: users.id, name: users.name }).from(users).where(eq(users.id, m.authorId))
    : [];
  const [target] = m.campaignTargetId
    ? await db
        .select({ campaignId: campaignTargets.campaignId })
        .from(campaignTargets)
        .where(eq(campaignTargets.id, m.campaignTargetId))
    : [];
  return {
    message: m,
    decision: decision ?? null,
    ai: ai ?? null,
    agent: agent ?? null,
    campaignId: target?.campaignId ?? null,
  };
}

/**
 * A send the gate passed but the sender stopped before calling Twilio (the WhatsApp window closed with no Content
 * template for the purpose, or a template whose variables Twilio would refuse): its proof must say so. The decision
 * becomes `refuse` with the reason, and the check that decided it (`whatsapp_window`, `whatsapp_template`) records
 * `refuse` with its detail: replaced when the gate recorded it, appended when it did not. One statement, failure path only.
 */
export async function refuseRecordedDecision(
  db: DbOrTx,
  idempotencyKey: string,
  check: { name: string; detail: string; input: Record<string, unknown> },
): Promise<void> {
  const full = JSON.stringify({ name: check.name, input: check.input, result: 'refuse', detail: check.detail });
  const patch = JSON.stringify({ result: 'refuse', detail: check.detail });
  await db.execute(sql`
    update send_decisions sd set decision = 'refuse', reason = ${check.detail}, hold_until = null,
      checks = case
        when exists (select 1 from jsonb_array_elements(sd.checks) c where c->>'name' = ${check.name})
          then (select jsonb_agg(case when c->>'name' = ${check.name} then c || ${patch}::jsonb else c end order by n)
                from jsonb_array_elements(sd.checks) with ordinality as e(c, n))
        else sd.checks || jsonb_build_array(${full}::jsonb)
      end
    where sd.idempotency_key = ${idempotencyKey}`);
}

/**
 * Twilio's prices for a page of listed messages (reconciliation: Twilio reports a price on the Message resource once
 * the message is sent, never in a status callback), kept with each message's decision. One statement a page; a
 * price already recorded is not rewritten. Returns how many decisions got their price.
 */
export async function recordMessagePrices(
  db: DbOrTx,
  tenantId: string,
  priced: { sid: string; price: string; priceUnit: string | null }[],
): Promise<number> {
  if (priced.length === 0) return 0;
  const rows = await db.execute(sql`
    update send_decisions sd set price = v.price, price_unit = v.price_unit
    from jsonb_to_recordset(${JSON.stringify(priced.map((p) => ({ sid: p.sid, price: p.price, price_unit: p.priceUnit })))}::jsonb)
           as v(sid text, price text, price_unit text),
         ${messages} m, ${outbox} o
    where m.tenant_id = ${tenantId} and m.provider_sid = v.sid and m.direction = 'outbound'
      and o.message_id = m.id and sd.idempotency_key = o.idempotency_key and sd.price is null
    returning sd.id`);
  return rows.length;
}

/** The contact of a tenant with this phone (E.164), if any. */
export async function findContactIdByPhone(db: DbOrTx, tenantId: string, phone: string): Promise<string | null> {
  const [row] = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phone, phone)));
  return row?.id ?? null;
}

export type WhyFound = NonNullable<Awaited<ReturnType<typeof findSendDecision>>>;

/** The answer of `causeway why` and `GET /api/messages/:id/why` (no phone, no text). */
export function whyView(found: WhyFound) {
  const { message: m, decision: d } = found;
  return {
    messageId: m.id,
    providerSid: m.providerSid,
    sentBy: m.sentBy,
    createdAt: m.createdAt.toISOString(),
    delivery: { status: m.status, errorCode: m.errorCode, price: d?.price ?? null, priceUnit: d?.priceUnit ?? null },
    decision: d
      ? {
          decision: d.decision,
          purpose: d.purpose,
          sendPurpose: d.sendPurpose,
          businessInitiated: d.businessInitiated,
          decidedAt: d.decidedAt.toISOString(),
          holds: d.holds,
          rulesVersion: d.rulesVersion,
          checks: d.checks,
        }
      : null,
    ai: found.ai,
    agent: found.agent,
    campaignId: found.campaignId ?? d?.campaignId ?? null,
    promiseId: d?.promiseId ?? null,
  };
}
