import { identityPrompt } from '../domain/identity';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import {
  acquireSlotsUpdate,
  FailureType,
  pacerWorkflowId,
  searchAttributes,
  type CampaignCounters,
  type CampaignStatus,
  type ClaimedTarget,
  type TraceContext,
  type Workflows,
  workflowType,
} from '../contract';
import { applyTargetEvent } from '../db/campaigns/targets';
import { campaignWakeReason } from '../db/campaigns/wake';
import type { DbOrTx } from '../db/core/client';
import {
  abandonSendAttempt,
  campaignOutlook,
  claimDueTargets,
  deferSendToWindow,
  extendClaimLease,
  loadCampaignForDispatch,
  loadTargetsForSend,
  markTargetSending,
  outageStillActive,
  recordCampaignStatus,
  recordOutageNotification,
  recordSendGivenUp,
  releaseCampaignClaims,
  skipTarget,
  type DispatchCampaign,
  type TargetForSend,
} from '../db/campaigns/dispatch';
import { isOpen, nextOpening, parseActiveHours } from '../domain/active-hours';
import { contactHash } from '../domain/contact-hash';
import { formatAddress } from '../domain/address';
import { formatDate, formatMoney } from '../domain/money';
import { renderTemplate } from '../domain/templates';
import { iso, reasonOnly } from '../domain/wake-reason';
import type { SendMessageResult } from '../contract/pipeline';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';
import { createOutboundSender, type SendHooks } from './messaging';
import { createSendGate, SendAborted, slotIntervalMs } from './send-gate';

export interface CampaignRef {
  campaignId: string;
  trace: TraceContext;
}

export type ClaimResult =
  | { phase: 'waiting_start'; wakeAt: number; counters: CampaignCounters }
  | { phase: 'ended'; reason: 'end_date'; counters: CampaignCounters }
  | {
      phase: 'run';
      targets: ClaimedTarget[];
      nextWakeAt: number | null;
      counters: CampaignCounters;
      /**
       * Issue 21 F: why nextWakeAt (a policy hold with its rule, active hours, retry spacing, a delivery timeout),
       * for the Web UI; only when nothing was claimed. Optional: results recorded before it decode as they were.
       */
      nextWakeReason?: string;
    };

export interface BatchResult {
  sent: number;
  skipped: number;
  /** Targets whose send hit a retryable error: the workflow retries each with Temporal's backoff. */
  retry: ClaimedTarget[];
  /** Issue 21 F: the batch's last hold or refusal by the outbound policy, for the Web UI (absent when none). */
  lastDecision?: string;
}

/** A claimed target nobody sent (its batch died without cleanup) becomes due again after this long. */
const CLAIM_LEASE_MS = 15 * 60_000;
/** Targets examined per claim beyond the batch (those outside active hours are rescheduled and skipped over). */
const MAX_SCAN_PAGES = 5;
/**
 * A send's database work (outbox row, claim) starts this long before its slot, so the Twilio call itself goes out
 * on the slot (the gate holds it until then) instead of a few queries after it.
 */
const PREPARE_AHEAD_MS = 1_000;
/**
 * Send activities heartbeat this often: a pause or cancel reaches them with the next heartbeat's answer (the
 * worker's heartbeat throttle is capped to match), and the gate then stops every send that has not gone out.
 */
const HEARTBEAT_MS = 100;
/** A slot this far in the past when its batch starts is renewed from the pacer (see freshSlots). */
const STALE_SLOT_MS = 1_000;
/**
 * A send batch covers this long at the campaign's rate (at least one target, at most MAX_BATCH). A claim costs a
 * few Temporal round trips (its activity, the pacer's update, the batch's activity) whatever its size: with one
 * second per batch, claims took longer than the seconds they booked on a loaded machine (bench: 1–4.5 s per claim,
 * 0.3× of the rate), so each claim books several seconds.
 */
const BATCH_SECONDS = 3;
const MAX_BATCH = 500;

/** A send that failed for good (its target already moved in the send's transaction): not retried. */
const isFinalSendFailure = (error: unknown) =>
  error instanceof ApplicationFailure &&
  (error.type === FailureType.TwilioPermanent ||
    error.type === FailureType.WindowClosed ||
    error.type === FailureType.TemplateVariables);

/** A policy hold or refusal in words for the Web UI (the gate's rule and instant; no address, no text). */
function policyDecisionOf(sent: SendMessageResult): string | null {
  if (sent.skipped && sent.reason === 'held') return `held until ${iso(sent.until)} — ${reasonOnly(sent.detail)}`;
  if (sent.skipped && sent.reason === 'refused') return `refused — ${sent.detail}`;
  return null;
}

export const batchSizeFor = (ratePerSecond: number) =>
  Math.max(1, Math.min(MAX_BATCH, Math.ceil(ratePerSecond * BATCH_SECONDS)));

const notFound = (campaignId: string) =>
  ApplicationFailure.create({
    type: FailureType.NotFound,
    message: `campaign ${campaignId} not found`,
    nonRetryable: true,
  });

export function createCampaignActivities(deps: ActivityDeps) {
  const { db } = deps;
  const sender = createOutboundSender(deps);
  const gate = createSendGate();

  async function loadCampaign(tx: DbOrTx, campaignId: string): Promise<DispatchCampaign> {
    const row = await loadCampaignForDispatch(tx, campaignId);
    if (!row) throw notFound(campaignId);
    return row;
  }

  /** The campaign's counters and next wake-up, read in the claim's transaction. */
  async function outlook(tx: DbOrTx, campaignId: string) {
    const o = await campaignOutlook(tx, campaignId, deps.config.campaign.deliveryTimeoutMs);
    if (!o) throw notFound(campaignId);
    return o;
  }

  /** Send slots from the sender's pacer workflow (started on first use): one rate limit per sender, all campaigns. */
  async function acquireSlots(
    tenantSlug: string,
    senderHash: string,
    count: number,
    ratePerSecond: number,
    requester: string,
  ): Promise<number[]> {
    // The pacer may run on this very worker: while it drains for shutdown the update is never answered, so the
    // wait must end with the activity's cancellation or the drain would wait on it forever.
    const signal = Context.current().cancellationSignal;
    signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
    );
    const { slots } = await Promise.race([
      aborted,
      deps.temporal.client.withAbortSignal(signal, () =>
        deps.temporal.client.workflow.executeUpdateWithStart(acquireSlotsUpdate, {
          args: [{ count, intervalMs: slotIntervalMs(ratePerSecond), requester }],
          startWorkflowOperation: new WithStartWorkflowOperation<Workflows['pacerWorkflow']>(
            workflowType.pacerWorkflow,
            {
              workflowId: pacerWorkflowId(tenantSlug, senderHash),
              taskQueue: deps.temporal.taskQueue,
              args: [{ tenantSlug }],
              workflowIdConflictPolicy: 'USE_EXISTING',
              typedSearchAttributes: [{ key: searchAttributes.TENANT, value: tenantSlug }],
              staticSummary: `Send pacer of sender ${senderHash.slice(0, 8)} for ${tenantSlug}`,
            },
          ),
        }),
      ),
    ]);
    return slots;
  }

  /** Variables a campaign template sees: the target's fields (formatted for the tenant's locale) and its file's columns. */
  function variablesFor(t: TargetForSend, locale: string, body: string | null) {
    return {
      ...t.variables,
      name: t.name ?? '',
      amount: formatMoney(t.debtAmountCents, locale),
      due_date: formatDate(t.dueDate, locale),
      document: t.document ?? '',
      ...(body ? { message: body } : {}),
    };
  }

  /** One attempt for one target through the idempotent outbox; the target's bookkeeping commits with it. */
  async function sendTarget(
    row: DispatchCampaign,
    claimed: ClaimedTarget,
    trace: TraceContext,
    target: TargetForSend,
    slotAt = claimed.slotAt,
    signal?: AbortSignal,
  ) {
    const c = row.campaign;
    const vars = variablesFor(target, row.locale, c.body);
    // Issue 23 E: a collection campaign reaches a number, not yet a person: its message asks for identity and
    // carries no debt (amount, due date, document, creditor) while the tenant's identity check is on.
    const private_ = c.kind === 'collection' && row.identityCheck !== 'off';
    const outage = c.kind === 'outage' || c.kind === 'outage_resolution';
    const hooks: SendHooks = {
      beforeCall: () => gate.wait(c.sender, slotAt, slotIntervalMs(c.ratePerSecond), signal),
      async claim(tx, messageId) {
        // The target must still be this attempt's, its contact not opted out, its campaign running (I12, pause).
        if (!(await markTargetSending(tx, claimed, messageId)))
          return 'target no longer sendable (opted out, paused, cancelled or already attempted)';
        // A resolved outage sends no more notices.
        if (c.kind === 'outage' && c.massiveFailureId && !(await outageStillActive(tx, c.massiveFailureId))) {
          await skipTarget(tx, claimed.targetId, c.id, 'outage_resolved');
          return 'the outage was resolved before this notice went out';
        }
        // C5: one notification of each kind per contact per outage, whatever the number of campaigns.
        if (
          outage &&
          c.massiveFailureId &&
          !(await recordOutageNotification(tx, {
            failureId: c.massiveFailureId,
            contactId: target.contactId,
            type: c.kind === 'outage' ? 'failure' : 'resolution',
            targetId: claimed.targetId,
            messageId,
          }))
        ) {
          await skipTarget(tx, claimed.targetId, c.id, 'already_notified');
          return 'contact already notified of this outage';
        }
        return null;
      },
      // Issue 25 C: in the SID write's one statement (only an outage with its failure has a notice row to mark).
      acceptedTarget: { targetId: claimed.targetId, outageNotice: outage && c.massiveFailureId !== null },
      // The claim above is the target's alone unless an outage's checks come with it (issue 25 C).
      ...(outage && c.massiveFailureId
        ? {}
        : { claimTarget: { targetId: claimed.targetId, attempt: claimed.attempt } }),
      async onPermanentFailure(tx, failure) {
        await applyTargetEvent(tx, claimed.targetId, { kind: 'permanent', reason: failure.reason });
      },
    };
    const sent = await sender.send(
      {
        idempotencyKey: `campaign:${claimed.targetId}:${claimed.attempt}`,
        tenantId: c.tenantId,
        conversationId: null,
        contactId: target.contactId,
        channel: c.channel,
        from: c.sender,
        to: formatAddress(c.channel, target.phone),
        // The purpose picks the WhatsApp Content template used outside the contact's window (E).
        ...(private_ && row.identityCheck !== 'off'
          ? {
              template: {
                key: 'identity_request',
                variables: { name: vars.name, identity_prompt: identityPrompt(row.identityCheck, row.locale) },
              },
            }
          : c.templateKey
            ? { template: { key: c.templateKey, variables: vars } }
            : {
                body: renderTemplate(c.body ?? '', vars),
                variables: vars,
                purpose:
                  c.kind === 'outage'
                    ? 'outage_notice'
                    : c.kind === 'outage_resolution'
                      ? 'outage_resolution'
                      : 'broadcast',
              }),
        sentBy: 'system',
        correlationId: `campaign:${c.id}`,
        trace: childSpan(trace),
        campaignTargetId: claimed.targetId,
        sentEvent: 'campaign.send',
        // Issue 21: the outbound policy's category by campaign kind.
        policy: c.kind === 'collection' ? 'collection' : c.kind === 'broadcast' ? 'marketing' : 'utility',
      },
      hooks,
    );
    // Issue 21: a held target waits for the gate's instant like one outside the campaign's hours (the campaign
    // workflow wakes for it and the gate decides again); a refused one is skipped with the reason recorded.
    if (sent.skipped && sent.reason === 'held')
      await deferSendToWindow(db, c.id, claimed.targetId, new Date(sent.until));
    if (sent.skipped && sent.reason === 'refused')
      await db.transaction((tx) => skipTarget(tx, claimed.targetId, c.id, 'policy_refused'));
    return sent;
  }

  /**
   * A retried batch (after a worker crash) gets new slots for targets whose slot has passed, and any batch for
   * slots more than STALE_SLOT_MS old: sent on stale slots they would go out at once, beside the slots the pacer
   * has since handed to other workers, and only the pacer's spacing holds across processes. Slots a little late
   * (a batch that started after a busy moment) are kept: re-slotting them leaves their slots empty, which cost
   * 40 % of the sustained rate in the bench under load, and the gate spaces their sends within this worker.
   */
  async function freshSlots(row: DispatchCampaign, targets: ClaimedTarget[], retried: boolean) {
    const now = Date.now();
    const stale = targets.filter((t) => t.slotAt < (retried ? now : now - STALE_SLOT_MS));
    if (stale.length === 0) return targets;
    const slots = await acquireSlots(
      row.tenantSlug,
      contactHash(row.hashKey, row.campaign.sender),
      stale.length,
      row.campaign.ratePerSecond,
      `campaign:${row.campaign.id}`,
    );
    const renewed = new Map(stale.map((t, i) => [t.targetId, slots[i]!]));
    return targets.map((t) => ({ ...t, slotAt: renewed.get(t.targetId) ?? t.slotAt }));
  }

  const releaseClaims = (targets: ClaimedTarget[]) =>
    releaseCampaignClaims(
      db,
      targets.map((t) => t.targetId),
    );

  return {
    /**
     * The dispatcher's page (C2, C6): the next due targets in strategy order, at most one second of the rate.
     * Opted-out contacts are stopped, targets outside their active hours are moved to their next window, the
     * rest are claimed (a lease, so a later page does not take them again) with send slots from the pacer.
     * Also answers when the campaign should wake up next if nothing is due.
     */
    async claimCampaignBatch(input: CampaignRef): Promise<ClaimResult> {
      const now = deps.clock();
      // The targets are taken and leased in one short transaction; the pacer is asked for their slots after it
      // commits. Holding the transaction (and its pool connection) across the pacer's update cost seconds per
      // claim on a loaded machine, and the sends of the running batches queued behind it for a connection.
      const claim = await claimDueTargets(db, {
        campaignId: input.campaignId,
        now,
        deliveryTimeoutMs: deps.config.campaign.deliveryTimeoutMs,
        maxUnconfirmed: MAX_BATCH,
        batchSize: batchSizeFor,
        maxPages: MAX_SCAN_PAGES,
        // Leased for the batch's span at the rate and CLAIM_LEASE_MS more; extended below if the pacer's slots
        // end later (a sender shared with other campaigns).
        leaseUntil: (count, rate) => now.getTime() + count * slotIntervalMs(rate) + CLAIM_LEASE_MS,
      });
      if (!claim) throw notFound(input.campaignId);
      if (claim.phase === 'waiting_start')
        return {
          phase: 'waiting_start',
          wakeAt: claim.wakeAt,
          counters: (await outlook(db, input.campaignId)).counters,
        };
      if (claim.phase === 'ended')
        return { phase: 'ended', reason: 'end_date', counters: (await outlook(db, input.campaignId)).counters };
      const { row, claimed } = claim;
      const c = row.campaign;
      let targets: ClaimedTarget[] = [];
      if (claimed.length > 0) {
        const ids = claimed.map((t) => t.id);
        let slots: number[];
        try {
          slots = await acquireSlots(
            row.tenantSlug,
            contactHash(row.hashKey, c.sender),
            claimed.length,
            c.ratePerSecond,
            `campaign:${c.id}`,
          );
        } catch (error) {
          // No slots, no batch: the targets are due again (a retried claim takes them, or the next one).
          await releaseCampaignClaims(db, ids);
          throw error;
        }
        targets = claimed.map((t, i) => ({ targetId: t.id, attempt: t.attempt, slotAt: slots[i]! }));
        const lastSlot = slots[slots.length - 1]!;
        if (lastSlot + CLAIM_LEASE_MS > claim.leaseUntil)
          await extendClaimLease(db, ids, new Date(lastSlot + CLAIM_LEASE_MS));
      }
      const { counters, nextWakeAt } = await outlook(db, c.id);
      const nextWakeReason =
        targets.length === 0 && nextWakeAt !== null
          ? await campaignWakeReason(db, c.id, deps.config.campaign.deliveryTimeoutMs)
          : null;
      return { phase: 'run', targets, nextWakeAt, counters, ...(nextWakeReason ? { nextWakeReason } : {}) };
    },

    /**
     * Sends one claimed batch, each target at its slot (the pacer's spacing holds across batches and campaigns).
     * Heartbeats let a pause cancel it within a fraction of a second; unsent targets are then released at once.
     * A worker crash retries the batch: each send is keyed `campaign:<target>:<attempt>` in the outbox, so
     * whatever went out is not sent again.
     */
    async sendCampaignBatch(input: CampaignRef & { targets: ClaimedTarget[] }): Promise<BatchResult> {
      const ctx = Context.current();
      const row = await loadCampaign(db, input.campaignId);
      const hours = parseActiveHours(row.campaign.activeHours);
      const details = await loadTargetsForSend(
        db,
        row.campaign,
        input.targets.map((t) => t.targetId),
      );
      const result: BatchResult = { sent: 0, skipped: 0, retry: [] };
      const unsent = new Set(input.targets.map((t) => t.targetId));
      const beat = setInterval(() => ctx.heartbeat({ sent: result.sent }), HEARTBEAT_MS);
      try {
        const targets = await freshSlots(row, input.targets, ctx.info.attempt > 1);
        await Promise.allSettled(
          targets.map(async (claimed) => {
            const wait = claimed.slotAt - PREPARE_AHEAD_MS - Date.now();
            if (wait > 0) await ctx.sleep(wait);
            if (ctx.cancellationSignal.aborted) return;
            const target = details.get(claimed.targetId);
            if (!target) return;
            unsent.delete(claimed.targetId);
            // The window may have closed while the target waited for its slot: zero sends outside active hours
            // (checked at the slot and a second after it, the most the gate can hold a send back).
            const at = Math.max(Date.now(), claimed.slotAt);
            if (!isOpen(hours, target.timeZone, new Date(at)) || !isOpen(hours, target.timeZone, new Date(at + 1000))) {
              await deferSendToWindow(
                db,
                row.campaign.id,
                claimed.targetId,
                nextOpening(hours, target.timeZone, new Date(at + 1000)),
              );
              result.skipped += 1;
              return;
            }
            try {
              const sent = await sendTarget(row, claimed, input.trace, target, claimed.slotAt, ctx.cancellationSignal);
              if (sent.skipped) result.skipped += 1;
              else result.sent += 1;
              const decision = policyDecisionOf(sent);
              if (decision) result.lastDecision = `target ${claimed.targetId}: ${decision}`;
            } catch (error) {
              if (error instanceof SendAborted) {
                await abandonSendAttempt(db, claimed, false);
                unsent.add(claimed.targetId);
                return;
              }
              if (isFinalSendFailure(error)) {
                result.skipped += 1;
                return;
              }
              deps.log.warn(
                { campaignId: input.campaignId, targetId: claimed.targetId, err: error },
                'campaign send failed; retrying it on its own',
              );
              result.retry.push(claimed);
            }
          }),
        );
      } finally {
        clearInterval(beat);
      }
      if (ctx.cancellationSignal.aborted) {
        // A pause or cancel: unsent targets are due again at once. A worker shutdown keeps them: Temporal retries
        // this very batch, and a released target could be claimed by a second batch as well.
        if (ctx.cancellationDetails?.cancelRequested)
          await releaseClaims(input.targets.filter((t) => unsent.has(t.targetId)));
        throw new CancelledFailure('send batch cancelled (campaign paused or cancelled)');
      }
      return result;
    },

    /** Claimed targets that no batch will send (the campaign was paused or cancelled during the claim): due again at once. */
    async releaseCampaignClaims(input: CampaignRef & { targets: ClaimedTarget[] }): Promise<void> {
      await releaseClaims(input.targets);
    },

    /** A single target's attempt after a retryable error: Temporal retries this with backoff, each try under a fresh slot. */
    async sendCampaignTarget(input: CampaignRef & { target: ClaimedTarget }): Promise<{ sent: boolean }> {
      const row = await loadCampaign(db, input.campaignId);
      const details = await loadTargetsForSend(db, row.campaign, [input.target.targetId]);
      const target = details.get(input.target.targetId);
      if (!target) return { sent: false };
      const ctx = Context.current();
      // Heartbeats carry a pause's cancellation to this activity too (it needs no heartbeat timeout for that).
      const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
      try {
        const [slot] = await acquireSlots(
          row.tenantSlug,
          contactHash(row.hashKey, row.campaign.sender),
          1,
          row.campaign.ratePerSecond,
          `campaign:${row.campaign.id}`,
        );
        if (slot! - PREPARE_AHEAD_MS > Date.now()) await ctx.sleep(slot! - PREPARE_AHEAD_MS - Date.now());
        const sent = await sendTarget(row, input.target, input.trace, target, slot, ctx.cancellationSignal);
        return { sent: !sent.skipped };
      } catch (error) {
        if (error instanceof SendAborted) {
          await abandonSendAttempt(db, input.target, ctx.cancellationDetails?.cancelRequested === true);
          throw new CancelledFailure('send stopped before its Twilio call (campaign paused or cancelled)');
        }
        if (isFinalSendFailure(error)) return { sent: false };
        throw error;
      } finally {
        clearInterval(beat);
      }
    },

    /** The retries of a send ran out: the attempt counts as failed (retried after the spacing, or the target fails). */
    async giveUpCampaignSend(input: CampaignRef & { target: ClaimedTarget }): Promise<void> {
      await recordSendGivenUp(db, input.target);
    },

    /** Campaign status as the workflow sees it (DB row, event in the campaign's trace). */
    async setCampaignStatus(
      input: CampaignRef & { status: CampaignStatus; event: string; actor: string; reason?: string },
    ): Promise<void> {
      if (!(await recordCampaignStatus(db, input))) throw notFound(input.campaignId);
    },
  };
}
