import { openSecret } from '../../secrets/keyring';
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { bumpCounters } from '../campaigns/targets';
import { anonymizeDrafts } from '../conversations/drafts';
import { eraseConversationNotes } from '../conversations/notes';
import type { Database, DbOrTx, Tx } from '../core/client';
import {
  aiResults,
  alerts,
  campaignTargets,
  contacts,
  contactSuppressions,
  conversations,
  conversationStateHistory,
  erasures,
  events,
  inboundFailures,
  inboundInbox,
  messages,
  OPEN_TARGET_STATES,
  orphanInbound,
  outbox,
  parkedStatusCallbacks,
  promises,
  tenants,
  twilioAccounts,
  type ErasureTargets,
  sendDecisions,
} from '../schema';

/*
 * The erasure's statements (`erasure:<tenant>:<hash>`, src/activities/erasure.ts runs them step by step). Each is
 * idempotent, so a retried or resumed step redoes it without harm.
 */

/** What a removed text becomes: a fixed marker, so a screen shows that something was erased rather than nothing said. */
export const ERASED = '[erased]';
/** A busy row (a turn in progress) makes the anonymizing transaction wait this long at most, then retry. */
const LOCK_TIMEOUT = '3s';

export const emptyErasureTargets = (): ErasureTargets => ({
  contactIds: [],
  conversationIds: [],
  messageIds: [],
  inboundSids: [],
  outboundSids: [],
  promiseWorkflowIds: [],
  traceIds: [],
});

/** The audit row of one run (who, when, why), created once per run id; returns its id. */
export async function beginErasureAudit(
  db: DbOrTx,
  audit: {
    tenantId: string;
    contactHash: string;
    workflowId: string;
    runId: string;
    requestedBy: string;
    reason: string;
  },
): Promise<string> {
  await db.insert(erasures).values(audit).onConflictDoNothing({ target: erasures.runId });
  const [row] = await db.select({ id: erasures.id }).from(erasures).where(eq(erasures.runId, audit.runId));
  return row!.id;
}

/** The audit row with the ids found so far (none yet: empty lists) and its tenant's slug and hash key. */
export async function loadErasure(db: DbOrTx, erasureId: string) {
  const [row] = await db.select().from(erasures).where(eq(erasures.id, erasureId));
  if (!row) throw new Error('erasure row missing');
  const [tenant] = await db
    .select({ slug: tenants.slug, hashKey: tenants.hashKey })
    .from(tenants)
    .where(eq(tenants.id, row.tenantId));
  return {
    row,
    tenant: { ...tenant!, hashKey: openSecret(tenant!.hashKey) },
    targets: row.targets ?? emptyErasureTargets(),
  };
}

/**
 * Everything stored of a contact, found by its keyed phone hash: rows by contact id, and the tenant's inbound rows
 * that hold only a sender address (parked inbox entries, failures, orphans), for the caller to match by hash.
 */
export async function findContactRows(db: DbOrTx, tenantId: string, contactHash: string) {
  const people = await db
    .select({ id: contacts.id, optedOutAt: contacts.optedOutAt })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.phoneHash, contactHash)));
  const contactIds = people.map((p) => p.id);
  const conversationRows = contactIds.length
    ? await db.select({ id: conversations.id }).from(conversations).where(inArray(conversations.contactId, contactIds))
    : [];
  const messageRows = contactIds.length
    ? await db
        .select({
          id: messages.id,
          sid: messages.providerSid,
          direction: messages.direction,
          traceId: messages.traceId,
        })
        .from(messages)
        .where(inArray(messages.contactId, contactIds))
    : [];
  const promiseRows = contactIds.length
    ? await db.select({ workflowId: promises.workflowId }).from(promises).where(inArray(promises.contactId, contactIds))
    : [];
  const inbox = await db
    .select({ sid: inboundInbox.messageSid, input: inboundInbox.input })
    .from(inboundInbox)
    .where(eq(inboundInbox.tenantId, tenantId));
  const failures = await db
    .select({ sid: inboundFailures.messageSid, input: inboundFailures.input })
    .from(inboundFailures)
    .where(eq(inboundFailures.tenantId, tenantId));
  const accountSids = (
    await db
      .select({ sid: twilioAccounts.accountSid })
      .from(twilioAccounts)
      .where(eq(twilioAccounts.tenantId, tenantId))
  ).map((a) => a.sid);
  const orphans = accountSids.length
    ? await db
        .select({ sid: orphanInbound.messageSid, payload: orphanInbound.payload })
        .from(orphanInbound)
        .where(inArray(orphanInbound.accountSid, accountSids))
    : [];
  return {
    people,
    conversationIds: conversationRows.map((c) => c.id),
    messages: messageRows,
    promiseWorkflowIds: promiseRows.map((p) => p.workflowId),
    inbox,
    failures,
    orphans,
  };
}

/** Keeps the ids found in the audit row until the erasure completes (not in the workflow's history). */
export async function saveErasureTargets(db: DbOrTx, erasureId: string, targets: ErasureTargets): Promise<void> {
  await db.update(erasures).set({ targets }).where(eq(erasures.id, erasureId));
}

/**
 * The suppression entry of an erased contact that had opted out (`optedOutAt`: its earliest opt-out), so a later
 * import cannot message the number again; returns whether the contact is suppressed (now or by an earlier attempt).
 */
export async function suppressErasedContact(
  db: DbOrTx,
  contact: { tenantId: string; phoneHash: string; optedOutAt: Date | undefined },
): Promise<boolean> {
  if (contact.optedOutAt) {
    await db
      .insert(contactSuppressions)
      .values({
        tenantId: contact.tenantId,
        phoneHash: contact.phoneHash,
        reason: 'erased_opted_out',
        optedOutAt: contact.optedOutAt,
      })
      .onConflictDoNothing({ target: [contactSuppressions.tenantId, contactSuppressions.phoneHash] });
  }
  const [suppression] = await db
    .select({ id: contactSuppressions.id })
    .from(contactSuppressions)
    .where(
      and(eq(contactSuppressions.tenantId, contact.tenantId), eq(contactSuppressions.phoneHash, contact.phoneHash)),
    );
  return Boolean(suppression);
}

/** A retried attempt finds fewer running: the row keeps the largest count any attempt saw. */
export async function recordWorkflowsTerminated(db: DbOrTx, erasureId: string, terminated: number): Promise<void> {
  await db
    .update(erasures)
    .set({ workflowsTerminated: sql`greatest(${erasures.workflowsTerminated}, ${terminated})` })
    .where(eq(erasures.id, erasureId));
}

export async function addHistoriesDeleted(db: DbOrTx, erasureId: string, deleted: number): Promise<void> {
  await db
    .update(erasures)
    .set({ historiesDeleted: sql`${erasures.historiesDeleted} + ${deleted}` })
    .where(eq(erasures.id, erasureId));
}

/**
 * Removes or anonymizes every row of the contact, in one transaction (all or nothing, so a crash leaves either
 * everything or nothing done). Texts become ERASED, the contact's addresses `erased`, and rows that exist only
 * for the personal data (parked inbound copies, failures, orphans) are deleted. Rows that the service counts
 * (messages with their Twilio SIDs, targets, promises, NPS scores) stay, without content. Returns the rows touched
 * per table, merged (max) with what earlier attempts recorded, as stored in the audit row.
 */
export async function eraseContactRows(
  db: Database,
  erasure: { id: string; tenantId: string; counts: Record<string, number> | null },
  t: ErasureTargets,
): Promise<Record<string, number>> {
  return db.transaction(async (tx: Tx) => {
    await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`));
    const n = async (q: Promise<unknown[]>) => (await q).length;
    const c: Record<string, number> = {};
    const has = (ids: string[]) => ids.length > 0;
    const returningId = { id: sql<string>`1` };
    if (has(t.messageIds)) {
      c.messages = await n(
        tx
          .update(messages)
          .set({
            body: ERASED,
            media: [],
            errorMessage: null,
            fromAddress: sql`case when ${messages.direction} = 'inbound' then 'erased' else ${messages.fromAddress} end`,
            toAddress: sql`case when ${messages.direction} = 'outbound' then 'erased' else ${messages.toAddress} end`,
          })
          .where(inArray(messages.id, t.messageIds))
          .returning(returningId),
      );
      c.outbox = await n(
        tx
          .update(outbox)
          .set({ variables: null, content: null, lastError: null })
          .where(inArray(outbox.messageId, t.messageIds))
          .returning(returningId),
      );
    }
    if (has(t.contactIds)) {
      // Issue 21: a contact's send decisions keep their outcome and each check's name and result (the proof that a
      // rule was applied), and lose the inputs (dates of the contact's messages, list registrations, local dates).
      c.send_decisions = await n(
        tx
          .update(sendDecisions)
          .set({
            checks: sql`(select coalesce(jsonb_agg(item - 'input' - 'detail'), '[]'::jsonb) from jsonb_array_elements(${sendDecisions.checks}) item)`,
            reason: null,
          })
          .where(inArray(sendDecisions.contactId, t.contactIds))
          .returning(returningId),
      );
    }
    if (has(t.conversationIds)) {
      c.ai_results = await n(
        tx
          .update(aiResults)
          .set({ output: null, error: null })
          .where(inArray(aiResults.conversationId, t.conversationIds))
          .returning(returningId),
      );
      // Hybrid mode's drafts quote the AI's and the agents' texts.
      c.suggested_responses = await anonymizeDrafts(tx, t.conversationIds, ERASED);
      // Issue 20 E: agents' internal notes are about the person.
      c.conversation_notes = await eraseConversationNotes(tx, t.conversationIds, ERASED);
      c.alerts = await n(
        tx
          .update(alerts)
          .set({ message: ERASED, payload: {} })
          .where(inArray(alerts.conversationId, t.conversationIds))
          .returning(returningId),
      );
      // Operators' close/resolve reasons are free text.
      c.conversation_state_history = await n(
        tx
          .update(conversationStateHistory)
          .set({ reason: ERASED })
          .where(inArray(conversationStateHistory.conversationId, t.conversationIds))
          .returning(returningId),
      );
      const open = await tx
        .update(conversations)
        .set({
          status: 'CLOSED',
          closeReason: 'erased',
          closedAt: sql`now()`,
          version: sql`${conversations.version} + 1`,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            inArray(conversations.id, t.conversationIds),
            sql`${conversations.status} in ('PENDING', 'PROGRESS', 'IDLE', 'HUMAN')`,
          ),
        )
        .returning({ id: conversations.id, version: conversations.version });
      if (open.length)
        await tx.insert(conversationStateHistory).values(
          open.map((o) => ({
            conversationId: o.id,
            fromStatus: null,
            toStatus: 'CLOSED' as const,
            version: o.version,
            reason: 'erased',
            actor: 'erasure',
          })),
        );
      c.conversations = await n(
        tx
          .update(conversations)
          .set({ summary: null })
          .where(inArray(conversations.id, t.conversationIds))
          .returning(returningId),
      );
    }
    if (has(t.inboundSids)) {
      c.alerts =
        (c.alerts ?? 0) +
        (await n(
          tx
            .update(alerts)
            .set({ message: ERASED, payload: {} })
            .where(
              and(eq(alerts.tenantId, erasure.tenantId), inArray(sql`${alerts.payload}->>'messageSid'`, t.inboundSids)),
            )
            .returning(returningId),
        ));
      c.inbound_inbox = await n(
        tx
          .delete(inboundInbox)
          .where(and(eq(inboundInbox.tenantId, erasure.tenantId), inArray(inboundInbox.messageSid, t.inboundSids)))
          .returning(returningId),
      );
      c.inbound_failures = await n(
        tx
          .delete(inboundFailures)
          .where(
            and(eq(inboundFailures.tenantId, erasure.tenantId), inArray(inboundFailures.messageSid, t.inboundSids)),
          )
          .returning(returningId),
      );
      c.orphan_inbound = await n(
        tx.delete(orphanInbound).where(inArray(orphanInbound.messageSid, t.inboundSids)).returning(returningId),
      );
    }
    const sids = [...t.inboundSids, ...t.outboundSids];
    if (has(sids))
      c.parked_status_callbacks = await n(
        tx
          .delete(parkedStatusCallbacks)
          .where(
            and(eq(parkedStatusCallbacks.tenantId, erasure.tenantId), inArray(parkedStatusCallbacks.messageSid, sids)),
          )
          .returning(returningId),
      );
    const eventWhere = [
      has(t.contactIds) ? inArray(events.contactId, t.contactIds) : undefined,
      has(t.conversationIds) ? inArray(events.conversationId, t.conversationIds) : undefined,
      has(t.messageIds) ? inArray(events.messageId, t.messageIds) : undefined,
      has(t.traceIds) ? inArray(events.traceId, t.traceIds) : undefined,
    ].filter((w) => w !== undefined);
    if (eventWhere.length)
      c.events = await n(
        tx
          .update(events)
          .set({ payload: {} })
          .where(or(...eventWhere))
          .returning(returningId),
      );
    if (has(t.contactIds)) {
      // Targets not yet worked on are skipped (counted like any skip) so the campaign never sends to them.
      const skipped = await tx
        .update(campaignTargets)
        .set({ state: 'skipped', outcome: 'erased', completedAt: sql`now()`, updatedAt: sql`now()` })
        .where(
          and(
            inArray(campaignTargets.contactId, t.contactIds),
            inArray(campaignTargets.state, [...OPEN_TARGET_STATES]),
          ),
        )
        .returning({ campaignId: campaignTargets.campaignId });
      const byCampaign = new Map<string, number>();
      for (const s of skipped) byCampaign.set(s.campaignId, (byCampaign.get(s.campaignId) ?? 0) + 1);
      for (const [campaignId, skippedCount] of byCampaign)
        await bumpCounters(tx, campaignId, { skipped: skippedCount });
      c.campaign_targets = await n(
        tx
          .update(campaignTargets)
          .set({ name: null, document: null, variables: {}, outcomeDetails: null })
          .where(inArray(campaignTargets.contactId, t.contactIds))
          .returning(returningId),
      );
      c.promises = (
        await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(promises)
          .where(inArray(promises.contactId, t.contactIds))
      )[0]!.n;
      // The contact row stays (everything above points at it), holding nothing that leads back to the person.
      c.contacts = await n(
        tx
          .update(contacts)
          .set({
            phone: sql`'erased:' || ${contacts.id}::text`,
            phoneHash: sql`'erased:' || ${contacts.id}::text`,
            bsuid: null,
            name: null,
            region: null,
            timeZone: null,
            updatedAt: sql`now()`,
          })
          .where(
            and(
              inArray(contacts.id, t.contactIds),
              isNotNull(contacts.phone),
              sql`${contacts.phone} not like 'erased:%'`,
            ),
          )
          .returning(returningId),
      );
    }
    const merged = { ...(erasure.counts ?? {}) };
    for (const [k, v] of Object.entries(c)) merged[k] = Math.max(merged[k] ?? 0, v);
    await tx.update(erasures).set({ counts: merged }).where(eq(erasures.id, erasure.id));
    return merged;
  });
}

/** Marks the audit row completed and drops the ids it kept while running; returns the row. */
export async function completeErasureAudit(db: DbOrTx, erasureId: string) {
  const [row] = await db
    .update(erasures)
    .set({ status: 'completed', completedAt: sql`coalesce(${erasures.completedAt}, now())`, targets: null })
    .where(eq(erasures.id, erasureId))
    .returning();
  return row!;
}
