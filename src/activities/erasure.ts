import { Context } from '@temporalio/activity';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import {
  conversationWorkflowId,
  erasureWorkflowId,
  workflowType,
  type ErasureInput,
  type ErasureSummary,
} from '../contract';
import {
  addHistoriesDeleted,
  beginErasureAudit,
  completeErasureAudit,
  ERASED,
  eraseContactRows,
  findContactRows,
  loadErasure,
  recordWorkflowsTerminated,
  saveErasureTargets,
  suppressErasedContact,
} from '../db/contacts/erasure';
import type { ErasureTargets } from '../db/schema';
import { parseAddress } from '../domain/address';
import { contactHash } from '../domain/contact-hash';
import type { ActivityDeps } from './deps';

export { ERASED };

/** Workflow types that belong to one contact. Campaign, pacer, reconcile and drain histories carry ids, not people. */
const CONTACT_WORKFLOW_TYPES = new Set<string>([
  workflowType.inboundWorkflow,
  workflowType.conversationWorkflow,
  workflowType.promiseWorkflow,
  workflowType.statusCallbackWorkflow,
  workflowType.redeliveryWorkflow,
]);
/** The reason given to Temporal for a terminated workflow: no personal data (the audit row has the requester's reason). */
export const ERASURE_TERMINATE_REASON = 'contact erased on request (LGPD/GDPR)';
/** Temporal's visibility queries get long with many ids: this many per query. */
const IDS_PER_QUERY = 50;
/** How long one attempt waits for Temporal to finish deleting the histories it was asked to delete. */
const HISTORY_DELETION_WAIT_MS = 5 * 60_000;
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

  const load = (erasureId: string) => loadErasure(deps.db, erasureId);

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
          info.type === workflowType.conversationWorkflow &&
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
      const erasureId = await beginErasureAudit(deps.db, {
        tenantId: input.tenantId,
        contactHash: input.contactHash,
        workflowId: erasureWorkflowId(input.tenantSlug, input.contactHash),
        runId: input.runId,
        requestedBy: input.requestedBy,
        reason: input.reason,
      });
      return { erasureId };
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
      const stored = await findContactRows(deps.db, row.tenantId, row.contactHash);
      const { people, inbox, failures, orphans, messages: messageRows } = stored;
      const contactIds = people.map((p) => p.id);

      // Inbound rows kept before (or instead of) a messages row: matched by the sender's hash, row by row.
      const mine = (address: unknown) => hashOfAddress(tenant.hashKey, address) === row.contactHash;
      const looseSids = [
        ...inbox.filter((r) => mine((r.input as { from?: unknown }).from)).map((r) => r.sid),
        ...failures.filter((r) => mine(fromOfJsonText(r.input))).map((r) => r.sid),
        ...orphans.filter((r) => mine(r.payload.From)).map((r) => r.sid),
      ];

      const found: ErasureTargets = {
        contactIds,
        conversationIds: stored.conversationIds,
        messageIds: messageRows.map((m) => m.id),
        inboundSids: [
          ...messageRows.filter((m) => m.direction === 'inbound' && m.sid).map((m) => m.sid!),
          ...looseSids,
        ],
        outboundSids: messageRows.filter((m) => m.direction === 'outbound' && m.sid).map((m) => m.sid!),
        promiseWorkflowIds: stored.promiseWorkflowIds,
        // Outbound traces are left out: a campaign send's trace is the campaign's, shared with every other target.
        traceIds: messageRows.filter((m) => m.direction === 'inbound' && m.traceId).map((m) => m.traceId!),
      };
      const merged = Object.fromEntries(
        Object.entries(found).map(([k, v]) => [k, union(before[k as keyof ErasureTargets], v as string[])]),
      ) as unknown as ErasureTargets;
      await saveErasureTargets(deps.db, row.id, merged);

      const optedOut = people
        .map((p) => p.optedOutAt)
        .filter((d): d is Date => d !== null)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      const suppressed = await suppressErasedContact(deps.db, {
        tenantId: row.tenantId,
        phoneHash: row.contactHash,
        optedOutAt: optedOut,
      });
      return {
        contacts: merged.contactIds.length,
        messages: merged.messageIds.length,
        suppressed,
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
      await recordWorkflowsTerminated(deps.db, row.id, terminated);
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
      const { row, targets } = await load(input.erasureId);
      const counts = await eraseContactRows(deps.db, row, targets);
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
      await addHistoriesDeleted(deps.db, row.id, deleted);
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
      const row = await completeErasureAudit(deps.db, input.erasureId);
      return {
        erasureId: row.id,
        counts: row.counts,
        workflowsTerminated: row.workflowsTerminated,
        historiesDeleted: row.historiesDeleted,
        suppressed: input.suppressed,
      };
    },
  };
}
