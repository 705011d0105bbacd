import { and, eq, inArray, lte, min, sql } from 'drizzle-orm';
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
} from '../contract';
import { applyTargetEvent, bumpCounters, foldCounters } from '../db/campaign-targets';
import type { DbOrTx } from '../db/client';
import { recordEvents } from '../db/events';
import {
  campaigns,
  campaignTargets,
  contacts,
  failureNotifications,
  massiveFailures,
  messages,
  outbox,
  tenants,
} from '../db/schema';
import { isOpen, nextOpening, parseActiveHours } from '../domain/active-hours';
import { contactHash } from '../domain/contact-hash';
import { formatAddress } from '../domain/address';
import { formatDate, formatMoney } from '../domain/money';
import { renderTemplate } from '../domain/templates';
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
  | { phase: 'run'; targets: ClaimedTarget[]; nextWakeAt: number | null; counters: CampaignCounters };

export interface BatchResult {
  sent: number;
  skipped: number;
  /** Targets whose send hit a retryable error: the workflow retries each with Temporal's backoff. */
  retry: ClaimedTarget[];
}

/** A claimed target nobody sent (its batch died without cleanup) becomes due again after this long. */
const CLAIM_LEASE_MS = 15 * 60_000;
/** Targets examined per claim beyond the batch (those outside active hours are rescheduled and skipped over). */
const MAX_SCAN_PAGES = 5;
/**
 * A send's database work (outbox row, claim) starts this long before its slot, so the Twilio call itself goes out
 * on the slot (the gate holds it until then) instead of a few queries after it.
 */
const PREPARE_AHEAD_MS = 250;
/**
 * Send activities heartbeat this often: a pause or cancel reaches them with the next heartbeat's answer (the
 * worker's heartbeat throttle is capped to match), and the gate then stops every send that has not gone out.
 */
const HEARTBEAT_MS = 100;
/** A slot this far in the past when its batch starts is renewed from the pacer (see freshSlots). */
const STALE_SLOT_MS = 1_000;
/** A send batch covers about one second of the rate (and at least one target, at most this many). */
const MAX_BATCH = 500;

type CampaignRow = typeof campaigns.$inferSelect;

/** A send that failed for good (its target already moved in the send's transaction): not retried. */
const isFinalSendFailure = (error: unknown) =>
  error instanceof ApplicationFailure &&
  (error.type === FailureType.TwilioPermanent || error.type === FailureType.WindowClosed);

export const batchSizeFor = (ratePerSecond: number) => Math.max(1, Math.min(MAX_BATCH, Math.ceil(ratePerSecond)));

function countersOf(c: CampaignRow, open: number): CampaignCounters {
  return {
    total: c.totalTargets,
    contacted: c.contactedTargets,
    successful: c.successfulContacts,
    failed: c.failedTargets,
    optedOut: c.optedOutTargets,
    skipped: c.skippedTargets,
    promisesMade: c.promisesMade,
    promisesFulfilled: c.promisesFulfilled,
    promisesBroken: c.promisesBroken,
    open,
  };
}

export function createCampaignActivities(deps: ActivityDeps) {
  const { db } = deps;
  const sender = createOutboundSender(deps);
  const gate = createSendGate();

  async function loadCampaign(tx: DbOrTx, campaignId: string) {
    const [row] = await tx
      .select({ campaign: campaigns, tenantSlug: tenants.slug, hashKey: tenants.hashKey, locale: tenants.locale })
      .from(campaigns)
      .innerJoin(tenants, eq(tenants.id, campaigns.tenantId))
      .where(eq(campaigns.id, campaignId));
    if (!row)
      throw ApplicationFailure.create({
        type: FailureType.NotFound,
        message: `campaign ${campaignId} not found`,
        nonRetryable: true,
      });
    return row;
  }

  async function openCount(tx: DbOrTx, campaignId: string): Promise<number> {
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(campaignTargets)
      .where(
        and(
          eq(campaignTargets.campaignId, campaignId),
          inArray(campaignTargets.state, ['pending', 'scheduled', 'sending']),
        ),
      );
    return row?.n ?? 0;
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
          startWorkflowOperation: new WithStartWorkflowOperation('pacerWorkflow', {
            workflowId: pacerWorkflowId(tenantSlug, senderHash),
            taskQueue: deps.temporal.taskQueue,
            args: [{ tenantSlug }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            typedSearchAttributes: [{ key: searchAttributes.TENANT, value: tenantSlug }],
            staticSummary: `Send pacer of sender ${senderHash.slice(0, 8)} for ${tenantSlug}`,
          }),
        }),
      ),
    ]);
    return slots;
  }

  /** Variables a campaign template sees: the target's fields (formatted for the tenant's locale) and its file's columns. */
  function variablesFor(
    t: {
      name: string | null;
      debtAmountCents: number | null;
      dueDate: string | null;
      document: string | null;
      variables: Record<string, string>;
    },
    locale: string,
    body: string | null,
  ) {
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
    row: Awaited<ReturnType<typeof loadCampaign>>,
    claimed: ClaimedTarget,
    trace: TraceContext,
    target: TargetForSend,
    slotAt = claimed.slotAt,
    signal?: AbortSignal,
  ) {
    const c = row.campaign;
    const vars = variablesFor(target, row.locale, c.body);
    const outage = c.kind === 'outage' || c.kind === 'outage_resolution';
    const hooks: SendHooks = {
      beforeCall: () => gate.wait(c.sender, slotAt, slotIntervalMs(c.ratePerSecond), signal),
      async claim(tx, messageId) {
        // The target must still be this attempt's, its contact not opted out, its campaign running (I12, pause).
        const [ok] = await tx
          .update(campaignTargets)
          .set({
            state: 'sending',
            attemptCount: claimed.attempt,
            lastAttemptAt: sql`now()`,
            lastMessageId: messageId,
            outcome: null,
            updatedAt: sql`now()`,
          })
          .where(
            and(
              eq(campaignTargets.id, claimed.targetId),
              eq(campaignTargets.state, 'scheduled'),
              eq(campaignTargets.attemptCount, claimed.attempt - 1),
              sql`not exists (select 1 from ${contacts} where ${contacts.id} = ${campaignTargets.contactId} and ${contacts.optedOutAt} is not null)`,
              sql`exists (select 1 from ${campaigns} where ${campaigns.id} = ${campaignTargets.campaignId} and ${campaigns.status} = 'active')`,
            ),
          )
          .returning({ id: campaignTargets.id });
        if (!ok) return 'target no longer sendable (opted out, paused, cancelled or already attempted)';
        if (c.kind === 'outage' && c.massiveFailureId) {
          // A resolved outage sends no more notices. FOR SHARE orders this claim against `resolveOutage`, which
          // draws the resolution's contacts after marking the outage resolved (src/campaigns/service.ts).
          const [failure] = await tx
            .select({ status: massiveFailures.status })
            .from(massiveFailures)
            .where(eq(massiveFailures.id, c.massiveFailureId))
            .for('share');
          if (failure?.status !== 'active') {
            await applySkip(tx, claimed.targetId, c.id, 'outage_resolved');
            return 'the outage was resolved before this notice went out';
          }
        }
        if (outage && c.massiveFailureId) {
          // C5: one notification of each kind per contact per outage, whatever the number of campaigns.
          const [first] = await tx
            .insert(failureNotifications)
            .values({
              failureId: c.massiveFailureId,
              contactId: target.contactId,
              notificationType: c.kind === 'outage' ? 'failure' : 'resolution',
              targetId: claimed.targetId,
              messageId,
            })
            .onConflictDoNothing()
            .returning({ id: failureNotifications.id });
          if (!first) {
            await applySkip(tx, claimed.targetId, c.id, 'already_notified');
            return 'contact already notified of this outage';
          }
        }
        return null;
      },
      async onAccepted(tx, sent) {
        await applyTargetEvent(tx, claimed.targetId, { kind: 'accepted', status: sent.status });
        if (outage)
          await tx
            .update(failureNotifications)
            .set({ sentAt: sql`now()` })
            .where(eq(failureNotifications.targetId, claimed.targetId));
      },
      async onPermanentFailure(tx, failure) {
        await applyTargetEvent(tx, claimed.targetId, { kind: 'permanent', reason: failure.reason });
      },
    };
    return sender.send(
      {
        idempotencyKey: `campaign:${claimed.targetId}:${claimed.attempt}`,
        tenantId: c.tenantId,
        conversationId: null,
        contactId: target.contactId,
        channel: c.channel,
        from: c.sender,
        to: formatAddress(c.channel, target.phone),
        // The purpose picks the WhatsApp Content template used outside the contact's window (E).
        ...(c.templateKey
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
      },
      hooks,
    );
  }

  async function applySkip(tx: DbOrTx, targetId: string, campaignId: string, outcome: string) {
    await tx
      .update(campaignTargets)
      .set({ state: 'skipped', outcome, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(campaignTargets.id, targetId));
    await bumpCounters(tx, campaignId, { skipped: 1 });
  }

  interface TargetForSend {
    id: string;
    contactId: string;
    phone: string;
    timeZone: string;
    name: string | null;
    debtAmountCents: number | null;
    dueDate: string | null;
    document: string | null;
    variables: Record<string, string>;
  }

  async function targetsForSend(campaign: CampaignRow, ids: string[]): Promise<Map<string, TargetForSend>> {
    const rows = await db
      .select({
        id: campaignTargets.id,
        contactId: campaignTargets.contactId,
        phone: contacts.phone,
        timeZone: sql<string>`coalesce(${campaignTargets.timeZone}, ${contacts.timeZone}, ${campaign.defaultTimeZone})`,
        name: sql<string | null>`coalesce(${campaignTargets.name}, ${contacts.name})`,
        debtAmountCents: campaignTargets.debtAmountCents,
        dueDate: campaignTargets.dueDate,
        document: campaignTargets.document,
        variables: campaignTargets.variables,
      })
      .from(campaignTargets)
      .innerJoin(contacts, eq(contacts.id, campaignTargets.contactId))
      .where(inArray(campaignTargets.id, ids));
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Reschedules a claimed target to its next active-hours window (or skips it when the hours never open). */
  async function deferToWindow(tx: DbOrTx, campaign: CampaignRow, targetId: string, opening: Date | null) {
    if (!opening) return applySkip(tx, targetId, campaign.id, 'no_active_hours');
    await tx
      .update(campaignTargets)
      .set({ state: 'scheduled', nextAttemptAt: opening, outcome: 'waiting_active_hours', updatedAt: sql`now()` })
      .where(eq(campaignTargets.id, targetId));
  }

  /**
   * A send stopped at the gate (SendAborted): its claim and outbox row were written but Twilio was never called.
   * Nothing of the attempt may remain, or its idempotency key would be spent and the target left in `sending`:
   * the outbox and message rows go and the target is back to claimed-and-queued for the same attempt, so a
   * retried activity sends it and a pause releases it (`release`, or releaseClaims for a batch).
   */
  async function abandonAttempt(claimed: ClaimedTarget, release = false) {
    await db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(outbox)
        .where(eq(outbox.idempotencyKey, `campaign:${claimed.targetId}:${claimed.attempt}`))
        .for('update');
      // Only a row that never got a Twilio answer; anything else went out (or failed there) and stays.
      if (!row || row.providerSid || (row.status !== 'pending' && row.status !== 'sending')) return;
      const [previous] = await tx
        .select({ id: messages.id, createdAt: messages.createdAt })
        .from(messages)
        .where(and(eq(messages.campaignTargetId, claimed.targetId), sql`${messages.id} <> ${row.messageId}`))
        .orderBy(sql`${messages.createdAt} desc`)
        .limit(1);
      await tx
        .delete(failureNotifications)
        .where(
          and(eq(failureNotifications.targetId, claimed.targetId), eq(failureNotifications.messageId, row.messageId)),
        );
      await tx.delete(outbox).where(eq(outbox.id, row.id));
      await tx.delete(messages).where(eq(messages.id, row.messageId));
      await tx
        .update(campaignTargets)
        .set({
          state: 'scheduled',
          attemptCount: claimed.attempt - 1,
          outcome: release ? null : 'queued',
          ...(release ? { nextAttemptAt: sql`now()` } : {}),
          lastMessageId: previous?.id ?? null,
          lastAttemptAt: previous?.createdAt ?? null,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            eq(campaignTargets.id, claimed.targetId),
            eq(campaignTargets.state, 'sending'),
            eq(campaignTargets.lastMessageId, row.messageId),
          ),
        );
    });
  }

  /**
   * A retried batch (after a worker crash) gets new slots for targets whose slot has passed, and any batch for
   * slots more than STALE_SLOT_MS old: sent on stale slots they would go out at once, beside the slots the pacer
   * has since handed to other workers, and only the pacer's spacing holds across processes. Slots a little late
   * (a batch that started after a busy moment) are kept: re-slotting them leaves their slots empty, which cost
   * 40 % of the sustained rate in the bench under load, and the gate spaces their sends within this worker.
   */
  async function freshSlots(
    row: Awaited<ReturnType<typeof loadCampaign>>,
    targets: ClaimedTarget[],
    retried: boolean,
  ): Promise<ClaimedTarget[]> {
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

  async function releaseClaims(targets: ClaimedTarget[]) {
    if (targets.length === 0) return;
    await db
      .update(campaignTargets)
      .set({ nextAttemptAt: sql`now()`, outcome: null, updatedAt: sql`now()` })
      .where(
        and(
          inArray(
            campaignTargets.id,
            targets.map((t) => t.targetId),
          ),
          eq(campaignTargets.state, 'scheduled'),
          eq(campaignTargets.outcome, 'queued'),
        ),
      );
  }

  return {
    /**
     * The dispatcher's page (C2, C6): the next due targets in strategy order, at most one second of the rate.
     * Opted-out contacts are stopped, targets outside their active hours are moved to their next window, the
     * rest are claimed (a lease, so a later page does not take them again) with send slots from the pacer.
     * Also answers when the campaign should wake up next if nothing is due.
     */
    async claimCampaignBatch(input: CampaignRef): Promise<ClaimResult> {
      const now = deps.clock();
      return db.transaction(async (tx) => {
        const row = await loadCampaign(tx, input.campaignId);
        const c = row.campaign;
        // Sends whose final status never came (a carrier that reports nothing) count as sent after a while.
        const stale = await tx
          .select({ id: campaignTargets.id })
          .from(campaignTargets)
          .where(
            and(
              eq(campaignTargets.campaignId, c.id),
              eq(campaignTargets.state, 'sending'),
              lte(campaignTargets.lastAttemptAt, new Date(now.getTime() - deps.config.campaign.deliveryTimeoutMs)),
            ),
          )
          .limit(MAX_BATCH);
        for (const t of stale) await applyTargetEvent(tx, t.id, { kind: 'unconfirmed' }, now);

        if (c.startAt && c.startAt > now)
          return {
            phase: 'waiting_start' as const,
            wakeAt: c.startAt.getTime(),
            counters: countersOf(c, await openCount(tx, c.id)),
          };
        if (c.endAt && c.endAt <= now)
          return {
            phase: 'ended' as const,
            reason: 'end_date' as const,
            counters: countersOf(c, await openCount(tx, c.id)),
          };

        const hours = parseActiveHours(c.activeHours);
        const size = batchSizeFor(c.ratePerSecond);
        const claimed: { id: string; attempt: number }[] = [];
        for (let page = 0; page < MAX_SCAN_PAGES && claimed.length < size; page++) {
          const due = await tx
            .select({
              id: campaignTargets.id,
              attemptCount: campaignTargets.attemptCount,
              contactId: campaignTargets.contactId,
              optedOutAt: contacts.optedOutAt,
              timeZone: sql<string>`coalesce(${campaignTargets.timeZone}, ${contacts.timeZone}, ${c.defaultTimeZone})`,
            })
            .from(campaignTargets)
            .innerJoin(contacts, eq(contacts.id, campaignTargets.contactId))
            .where(
              and(
                eq(campaignTargets.campaignId, c.id),
                inArray(campaignTargets.state, ['pending', 'scheduled']),
                lte(campaignTargets.nextAttemptAt, now),
              ),
            )
            .orderBy(campaignTargets.orderKey)
            .limit(size - claimed.length)
            .for('update', { of: campaignTargets, skipLocked: true });
          for (const t of due) {
            if (t.optedOutAt) {
              await tx
                .update(campaignTargets)
                .set({ state: 'opted_out', outcome: 'opted_out', completedAt: now, updatedAt: now })
                .where(eq(campaignTargets.id, t.id));
              await bumpCounters(tx, c.id, { optedOut: 1 });
            } else if (!isOpen(hours, t.timeZone, now)) {
              await deferToWindow(tx, c, t.id, nextOpening(hours, t.timeZone, now));
            } else {
              claimed.push({ id: t.id, attempt: t.attemptCount + 1 });
            }
          }
          if (due.length < size - claimed.length) break;
        }

        let targets: ClaimedTarget[] = [];
        if (claimed.length > 0) {
          const slots = await acquireSlots(
            row.tenantSlug,
            contactHash(row.hashKey, c.sender),
            claimed.length,
            c.ratePerSecond,
            `campaign:${c.id}`,
          );
          targets = claimed.map((t, i) => ({ targetId: t.id, attempt: t.attempt, slotAt: slots[i]! }));
          const leaseUntil = new Date(slots[slots.length - 1]! + CLAIM_LEASE_MS);
          await tx
            .update(campaignTargets)
            .set({ state: 'scheduled', nextAttemptAt: leaseUntil, outcome: 'queued', updatedAt: now })
            .where(
              inArray(
                campaignTargets.id,
                claimed.map((t) => t.id),
              ),
            );
        }
        const [next] = await tx
          .select({
            due: min(campaignTargets.nextAttemptAt),
            sending: sql<Date | null>`min(${campaignTargets.lastAttemptAt}) filter (where ${campaignTargets.state} = 'sending')`,
          })
          .from(campaignTargets)
          .where(
            and(
              eq(campaignTargets.campaignId, c.id),
              inArray(campaignTargets.state, ['pending', 'scheduled', 'sending']),
            ),
          );
        const dueAt = next?.due ? new Date(next.due).getTime() : null;
        const sendingAt = next?.sending
          ? new Date(next.sending).getTime() + deps.config.campaign.deliveryTimeoutMs
          : null;
        const candidates = [dueAt, sendingAt].filter((v): v is number => v !== null);
        await foldCounters(tx, c.id);
        const [fresh] = await tx.select().from(campaigns).where(eq(campaigns.id, c.id));
        return {
          phase: 'run' as const,
          targets,
          nextWakeAt: candidates.length ? Math.min(...candidates) : null,
          counters: countersOf(fresh ?? c, await openCount(tx, c.id)),
        };
      });
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
      const details = await targetsForSend(
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
              await db.transaction((tx) =>
                deferToWindow(
                  tx,
                  row.campaign,
                  claimed.targetId,
                  nextOpening(hours, target.timeZone, new Date(at + 1000)),
                ),
              );
              result.skipped += 1;
              return;
            }
            try {
              const sent = await sendTarget(row, claimed, input.trace, target, claimed.slotAt, ctx.cancellationSignal);
              if (sent.skipped) result.skipped += 1;
              else result.sent += 1;
            } catch (error) {
              if (error instanceof SendAborted) {
                await abandonAttempt(claimed);
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
      const details = await targetsForSend(row.campaign, [input.target.targetId]);
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
          await abandonAttempt(input.target, ctx.cancellationDetails?.cancelRequested === true);
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
      await db.transaction(async (tx) => {
        const [t] = await tx
          .select({ state: campaignTargets.state })
          .from(campaignTargets)
          .where(eq(campaignTargets.id, input.target.targetId));
        if (t?.state === 'scheduled') {
          // Never reached Twilio's acceptance: treat as an attempt that failed.
          await tx
            .update(campaignTargets)
            .set({ state: 'sending', attemptCount: input.target.attempt, lastAttemptAt: sql`now()` })
            .where(eq(campaignTargets.id, input.target.targetId));
        }
        await applyTargetEvent(tx, input.target.targetId, { kind: 'status', status: 'failed' });
      });
    },

    /** Campaign status as the workflow sees it (DB row, event in the campaign's trace). */
    async setCampaignStatus(
      input: CampaignRef & { status: CampaignStatus; event: string; actor: string; reason?: string },
    ): Promise<void> {
      await db.transaction(async (tx) => {
        const row = await loadCampaign(tx, input.campaignId);
        const terminal = input.status === 'completed' || input.status === 'cancelled';
        if (terminal && input.status === 'cancelled') {
          // Cancelled: nothing that has not gone out yet will.
          const skipped = await tx
            .update(campaignTargets)
            .set({ state: 'skipped', outcome: 'campaign_cancelled', completedAt: sql`now()`, updatedAt: sql`now()` })
            .where(
              and(
                eq(campaignTargets.campaignId, input.campaignId),
                inArray(campaignTargets.state, ['pending', 'scheduled']),
              ),
            )
            .returning({ id: campaignTargets.id });
          await bumpCounters(tx, input.campaignId, { skipped: skipped.length });
        }
        if (input.reason === 'end_date') {
          const skipped = await tx
            .update(campaignTargets)
            .set({ state: 'skipped', outcome: 'campaign_ended', completedAt: sql`now()`, updatedAt: sql`now()` })
            .where(
              and(
                eq(campaignTargets.campaignId, input.campaignId),
                inArray(campaignTargets.state, ['pending', 'scheduled']),
              ),
            )
            .returning({ id: campaignTargets.id });
          await bumpCounters(tx, input.campaignId, { skipped: skipped.length });
        }
        await foldCounters(tx, input.campaignId);
        await tx
          .update(campaigns)
          .set({
            status: input.status,
            updatedAt: sql`now()`,
            ...(input.status === 'active' && !row.campaign.startedAt ? { startedAt: sql`now()` } : {}),
            ...(terminal ? { completedAt: sql`now()` } : {}),
          })
          .where(eq(campaigns.id, input.campaignId));
        await recordEvents(tx, [
          {
            trace: childSpan(input.trace),
            type: `campaign.${input.event}`,
            tenantId: row.campaign.tenantId,
            payload: {
              campaignId: input.campaignId,
              actor: input.actor,
              ...(input.reason ? { reason: input.reason } : {}),
            },
          },
        ]);
      });
    },
  };
}
