import { Context } from '@temporalio/activity';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import { conversationWorkflowId, erasureWorkflowId, type ErasureInput, type ErasureSummary } from '../contract';
import { bumpCounters } from '../db/campaign-targets';
import { anonymizeDrafts } from '../db/drafts';
import type { Tx } from '../db/client';
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
} from '../db/schema';
import { parseAddress } from '../domain/address';
import { contactHash } from '../domain/contact-hash';
import type { ActivityDeps } from './deps';

/** What a removed text becomes: a fixed marker, so a screen shows that something was erased rather than nothing said. */
export const ERASED = '[erased]';

/** Workflow types that belong to one contact. Campaign, pacer, reconcile and drain histories carry ids, not people. */
const CONTACT_WORKFLOW_TYPES = new Set([
  'inboundWorkflow',
  'conversationWorkflow',
  'promiseWorkflow',
  'statusCallbackWorkflow',
  'redeliveryWorkflow',
]);
/** The reason given to Temporal for a terminated workflow: no personal data (the audit row has the requester's reason). */
export const ERASURE_TERMINATE_REASON = 'contact erased on request (LGPD/GDPR)';
/** Temporal's visibility queries get long with many ids: this many per query. */
const IDS_PER_QUERY = 50;
/** How long one attempt waits for Temporal to finish deleting the histories it was asked to delete. */
const HISTORY_DELETION_WAIT_MS = 5 * 60_000;
/** A busy row (a turn in progress) makes the anonymizing transaction wait this long at most, then retry. */
const LOCK_TIMEOUT = '3s';

const empty = (): ErasureTargets => ({
  contactIds: [],
  conversationIds: [],
  messageIds: [],
  inboundSids: [],
  outboundSids: [],
  promiseWorkflowIds: [],
  traceIds: [],
});
const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The phone of a Twilio address in a stored payload, hashed like contacts.phone_hash (null: not a phone address). */
function hashOfAddress(hashKey: string, address: unknown): string | null {
  if (typeof address !== 'string') return null;
  const parsed = parseAddress(address);
  return parsed ? contactHash(hashKey, parsed.phone) : null;
}

function fromOfJsonText(text: string): unknown {
  try {
    return (JSON.parse(text) as { from?: unknown }).from;
  } catch {
    return null;
  }
}

/**
 * The steps of `erasure:<tenant>:<hash>`, each idempotent: a retry or a resumed workflow (worker crash) redoes a
 * step without harm. The workflow carries only the contact's keyed hash; the ids found are kept in the erasure's
 * own row until it completes, not in the history.
 */
export function createErasureActivities(deps: ActivityDeps) {
  const client = (): Client => deps.temporal.client;

  async function load(erasureId: string) {
    const [row] = await deps.db.select().from(erasures).where(eq(erasures.id, erasureId));
    if (!row) throw new Error('erasure row missing');
    const [tenant] = await deps.db
      .select({ slug: tenants.slug, hashKey: tenants.hashKey })
      .from(tenants)
      .where(eq(tenants.id, row.tenantId));
    return { row, tenant: tenant!, targets: row.targets ?? empty() };
  }

  /** Every execution of the contact's workflows Temporal still lists (`extra` narrows: e.g. only running ones). */
  async function contactExecutions(
    tenantSlug: string,
    row: { contactHash: string },
    targets: ErasureTargets,
    extra = '',
  ): Promise<WorkflowExecutionInfo[]> {
    const own = erasureWorkflowId(tenantSlug, row.contactHash);
    const clauses: string[] = [`WorkflowId = ${quote(conversationWorkflowId(tenantSlug, row.contactHash))}`];
    const exact = [...targets.inboundSids.map((sid) => `inbound:${sid}`), ...targets.promiseWorkflowIds];
    for (let i = 0; i < exact.length; i += IDS_PER_QUERY)
      clauses.push(
        `WorkflowId IN (${exact
          .slice(i, i + IDS_PER_QUERY)
          .map(quote)
          .join(', ')})`,
      );
    // status:<sid>:<status> and redeliver:<messageId>:<mode>: one prefix per message.
    const prefixes = [...targets.inboundSids, ...targets.outboundSids]
      .map((sid) => `status:${sid}:`)
      .concat(targets.messageIds.map((id) => `redeliver:${id}:`));
    for (let i = 0; i < prefixes.length; i += IDS_PER_QUERY)
      clauses.push(
        prefixes
          .slice(i, i + IDS_PER_QUERY)
          .map((p) => `WorkflowId STARTS_WITH ${quote(p)}`)
          .join(' OR '),
      );
    // The contact's webhook traces: an inbound workflow whose message never reached the messages table is found so.
    for (let i = 0; i < targets.traceIds.length; i += IDS_PER_QUERY)
      clauses.push(
        `CausewayTraceId IN (${targets.traceIds
          .slice(i, i + IDS_PER_QUERY)
          .map(quote)
          .join(', ')})`,
      );
    const found = new Map<string, WorkflowExecutionInfo>();
    for (const clause of clauses) {
      for await (const info of client().workflow.list({ query: `(${clause})${extra}` })) {
        if (info.workflowId === own || !CONTACT_WORKFLOW_TYPES.has(info.type)) continue;
        // A conversation found by trace must still be this contact's (campaign traces are shared by many contacts).
        if (
          info.type === 'conversationWorkflow' &&
          info.workflowId !== conversationWorkflowId(tenantSlug, row.contactHash)
        )
          continue;
        found.set(`${info.workflowId}/${info.runId}`, info);
      }
      Context.current().heartbeat();
    }
    return [...found.values()];
  }

  return {
    /** The audit row of this run (who, when, why), created once per run id. */
    async beginErasure(input: ErasureInput & { runId: string }): Promise<{ erasureId: string }> {
      await deps.db
        .insert(erasures)
        .values({
          tenantId: input.tenantId,
          contactHash: input.contactHash,
          workflowId: erasureWorkflowId(input.tenantSlug, input.contactHash),
          runId: input.runId,
          requestedBy: input.requestedBy,
          reason: input.reason,
        })
        .onConflictDoNothing({ target: erasures.runId });
      const [row] = await deps.db.select({ id: erasures.id }).from(erasures).where(eq(erasures.runId, input.runId));
      return { erasureId: row!.id };
    },

    /**
     * Finds everything of the contact (rows by contact id, and the inbound rows that only hold the sender's address,
     * matched by its keyed hash), keeps the ids in the erasure row (merged with what an earlier attempt found), and
     * writes the suppression entry when the contact had opted out. Must run before anything is anonymized.
     */
    async collectErasureTargets(input: {
      erasureId: string;
    }): Promise<{ contacts: number; messages: number; suppressed: boolean }> {
      const { row, tenant, targets: before } = await load(input.erasureId);
      const people = await deps.db
        .select({ id: contacts.id, optedOutAt: contacts.optedOutAt })
        .from(contacts)
        .where(and(eq(contacts.tenantId, row.tenantId), eq(contacts.phoneHash, row.contactHash)));
      const contactIds = people.map((p) => p.id);
      const conversationRows = contactIds.length
        ? await deps.db
            .select({ id: conversations.id })
            .from(conversations)
            .where(inArray(conversations.contactId, contactIds))
        : [];
      const messageRows = contactIds.length
        ? await deps.db
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
        ? await deps.db
            .select({ workflowId: promises.workflowId })
            .from(promises)
            .where(inArray(promises.contactId, contactIds))
        : [];

      // Inbound rows kept before (or instead of) a messages row: matched by the sender's hash, row by row.
      const mine = (address: unknown) => hashOfAddress(tenant.hashKey, address) === row.contactHash;
      const inbox = await deps.db
        .select({ sid: inboundInbox.messageSid, input: inboundInbox.input })
        .from(inboundInbox)
        .where(eq(inboundInbox.tenantId, row.tenantId));
      const failures = await deps.db
        .select({ sid: inboundFailures.messageSid, input: inboundFailures.input })
        .from(inboundFailures)
        .where(eq(inboundFailures.tenantId, row.tenantId));
      const accountSids = (
        await deps.db
          .select({ sid: twilioAccounts.accountSid })
          .from(twilioAccounts)
          .where(eq(twilioAccounts.tenantId, row.tenantId))
      ).map((a) => a.sid);
      const orphans = accountSids.length
        ? await deps.db
            .select({ sid: orphanInbound.messageSid, payload: orphanInbound.payload })
            .from(orphanInbound)
            .where(inArray(orphanInbound.accountSid, accountSids))
        : [];
      const looseSids = [
        ...inbox.filter((r) => mine((r.input as { from?: unknown }).from)).map((r) => r.sid),
        ...failures.filter((r) => mine(fromOfJsonText(r.input))).map((r) => r.sid),
        ...orphans.filter((r) => mine(r.payload.From)).map((r) => r.sid),
      ];

      const found: ErasureTargets = {
        contactIds,
        conversationIds: conversationRows.map((c) => c.id),
        messageIds: messageRows.map((m) => m.id),
        inboundSids: [
          ...messageRows.filter((m) => m.direction === 'inbound' && m.sid).map((m) => m.sid!),
          ...looseSids,
        ],
        outboundSids: messageRows.filter((m) => m.direction === 'outbound' && m.sid).map((m) => m.sid!),
        promiseWorkflowIds: promiseRows.map((p) => p.workflowId),
        // Outbound traces are left out: a campaign send's trace is the campaign's, shared with every other target.
        traceIds: messageRows.filter((m) => m.direction === 'inbound' && m.traceId).map((m) => m.traceId!),
      };
      const merged = Object.fromEntries(
        Object.entries(found).map(([k, v]) => [k, union(before[k as keyof ErasureTargets], v as string[])]),
      ) as unknown as ErasureTargets;
      await deps.db.update(erasures).set({ targets: merged }).where(eq(erasures.id, row.id));

      const optedOut = people
        .map((p) => p.optedOutAt)
        .filter((d): d is Date => d !== null)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      if (optedOut) {
        await deps.db
          .insert(contactSuppressions)
          .values({
            tenantId: row.tenantId,
            phoneHash: row.contactHash,
            reason: 'erased_opted_out',
            optedOutAt: optedOut,
          })
          .onConflictDoNothing({ target: [contactSuppressions.tenantId, contactSuppressions.phoneHash] });
      }
      const [suppression] = await deps.db
        .select({ id: contactSuppressions.id })
        .from(contactSuppressions)
        .where(and(eq(contactSuppressions.tenantId, row.tenantId), eq(contactSuppressions.phoneHash, row.contactHash)));
      return {
        contacts: merged.contactIds.length,
        messages: merged.messageIds.length,
        suppressed: Boolean(suppression),
      };
    },

    /** Terminates the contact's running workflows (a conversation, promise timers, in-flight inbound or resends). */
    async endContactWorkflows(input: { erasureId: string }): Promise<{ terminated: number }> {
      const { row, tenant, targets } = await load(input.erasureId);
      const running = await contactExecutions(tenant.slug, row, targets, ` AND ExecutionStatus = 'Running'`);
      let terminated = 0;
      for (const info of running) {
        try {
          await client().workflow.getHandle(info.workflowId, info.runId).terminate(ERASURE_TERMINATE_REASON);
          terminated += 1;
        } catch (error) {
          // Closed meanwhile (or by an earlier attempt): nothing left to end.
          if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
        }
      }
      // A retried attempt finds fewer running: the row keeps the largest count any attempt saw.
      await deps.db
        .update(erasures)
        .set({ workflowsTerminated: sql`greatest(${erasures.workflowsTerminated}, ${terminated})` })
        .where(eq(erasures.id, row.id));
      return { terminated };
    },

    /**
     * Removes or anonymizes every row of the contact, in one transaction (all or nothing, so a crash leaves either
     * everything or nothing done). Texts become ERASED, the contact's addresses `erased`, and rows that exist only
     * for the personal data (parked inbound copies, failures, orphans) are deleted. Rows that the service counts
     * (messages with their Twilio SIDs, targets, promises, NPS scores) stay, without content: campaign and promise
     * statistics keep adding up, and reconciliation still recognizes the SIDs in Twilio's log instead of re-ingesting.
     */
    async anonymizeContactRows(input: { erasureId: string }): Promise<{ counts: Record<string, number> }> {
      const { row, targets: t } = await load(input.erasureId);
      const counts = await deps.db.transaction(async (tx: Tx) => {
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
                  and(eq(alerts.tenantId, row.tenantId), inArray(sql`${alerts.payload}->>'messageSid'`, t.inboundSids)),
                )
                .returning(returningId),
            ));
          c.inbound_inbox = await n(
            tx
              .delete(inboundInbox)
              .where(and(eq(inboundInbox.tenantId, row.tenantId), inArray(inboundInbox.messageSid, t.inboundSids)))
              .returning(returningId),
          );
          c.inbound_failures = await n(
            tx
              .delete(inboundFailures)
              .where(
                and(eq(inboundFailures.tenantId, row.tenantId), inArray(inboundFailures.messageSid, t.inboundSids)),
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
                and(eq(parkedStatusCallbacks.tenantId, row.tenantId), inArray(parkedStatusCallbacks.messageSid, sids)),
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
        const merged = { ...(row.counts ?? {}) };
        for (const [k, v] of Object.entries(c)) merged[k] = Math.max(merged[k] ?? 0, v);
        await tx.update(erasures).set({ counts: merged }).where(eq(erasures.id, row.id));
        return merged;
      });
      return { counts };
    },

    /**
     * Deletes the Temporal executions of the contact's workflows (every run, any status): their histories hold the
     * phone number and the texts. Deletion, not crypto-shredding: see docs/privacy.md. Temporal deletes
     * asynchronously; a history already gone is not listed again, so a rerun deletes only what is left.
     */
    async deleteContactHistories(input: { erasureId: string }): Promise<{ deleted: number }> {
      const { row, tenant, targets } = await load(input.erasureId);
      const executions = await contactExecutions(tenant.slug, row, targets);
      const namespace = client().options.namespace;
      let deleted = 0;
      const pending: WorkflowExecutionInfo[] = [];
      for (const info of executions) {
        try {
          await client().workflowService.deleteWorkflowExecution({
            namespace,
            workflowExecution: { workflowId: info.workflowId, runId: info.runId },
          });
          deleted += 1;
          pending.push(info);
        } catch (error) {
          // NOT_FOUND (5): deleted by an earlier attempt, visibility had not caught up yet.
          if ((error as { code?: number }).code !== 5) throw error;
        }
        Context.current().heartbeat();
      }
      await deps.db
        .update(erasures)
        .set({ historiesDeleted: sql`${erasures.historiesDeleted} + ${deleted}` })
        .where(eq(erasures.id, row.id));
      // Temporal deletes asynchronously (seconds to tens of seconds): the erasure completes only once no history
      // can be read any more, so a completed audit row means the histories are gone. Past the wait, the attempt
      // fails and the retry lists and deletes whatever is still there.
      const deadline = Date.now() + HISTORY_DELETION_WAIT_MS;
      while (pending.length > 0) {
        for (let i = pending.length - 1; i >= 0; i -= 1) {
          const gone = await client()
            .workflow.getHandle(pending[i]!.workflowId, pending[i]!.runId)
            .describe()
            .then(
              () => false,
              (error: unknown) => (error as Error).name === 'WorkflowNotFoundError',
            );
          if (gone) pending.splice(i, 1);
        }
        Context.current().heartbeat({ waitingFor: pending.length });
        if (pending.length === 0) break;
        if (Date.now() > deadline) throw new Error(`${pending.length} Temporal execution(s) not deleted yet`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      return { deleted };
    },

    /** Marks the audit row completed and drops the ids it kept while running. */
    async completeErasure(input: { erasureId: string; suppressed: boolean }): Promise<ErasureSummary> {
      const [row] = await deps.db
        .update(erasures)
        .set({ status: 'completed', completedAt: sql`coalesce(${erasures.completedAt}, now())`, targets: null })
        .where(eq(erasures.id, input.erasureId))
        .returning();
      return {
        erasureId: row!.id,
        counts: row!.counts,
        workflowsTerminated: row!.workflowsTerminated,
        historiesDeleted: row!.historiesDeleted,
        suppressed: input.suppressed,
      };
    },
  };
}
