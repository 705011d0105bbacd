import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  cancelCampaignSignal,
  campaignProgressQuery,
  pauseCampaignSignal,
  resumeCampaignSignal,
  searchAttributes,
  targetsChangedSignal,
  type CampaignCarry,
  type CampaignCounters,
  type CampaignInput,
  type CampaignResult,
  type CampaignStatus,
  type ClaimedTarget,
  type ControlArgs,
} from '../contract';
import { campaignDb, campaignRetrySend, campaignSend } from './activity-options';
import { iso, showDetails, summary } from './user-metadata';

/**
 * The next batch is claimed when the slots already booked end within this long, whatever the running batches are
 * doing: a batch ends only after its sends' bookkeeping, which lags under load, and waiting for it left the sender
 * idle at every batch boundary (bench: gaps of 200–600 ms every 50 sends, 0.81× of the rate).
 */
const LOOKAHEAD_MS = 2_000;
/** A bound on batches running at once (about one second of sends each), should their bookkeeping fall behind. */
const MAX_IN_FLIGHT = 5;
/**
 * Patched: the next batch is claimed when the booked slots end within CLAIM_AHEAD_MS. A claim and the start of its
 * batch are several Temporal round trips (claim activity, the pacer's update, the send activity), which took 1–4 s
 * on a loaded machine: with 2 s of lookahead the sender sat idle at every batch boundary (bench: gaps of 1–4 s
 * every 50 sends). With more lookahead more batches wait for their slots at once, hence the higher bound.
 */
const CLAIM_AHEAD_PATCH = 'campaign-claim-ahead';
const CLAIM_AHEAD_MS = 5_000;
const CLAIM_AHEAD_MAX_IN_FLIGHT = 10;
/** Continue-as-new after this many batches: a 100k-target campaign is a chain of small histories (C6). */
const MAX_BATCHES_PER_RUN = 200;

export type { CampaignResult };

/**
 * `campaign:<id>`: paces one campaign's sends (C2). Each loop claims the next due targets (in strategy order,
 * inside their active hours) with slots from the sender's pacer, and hands them to a send batch activity; at
 * most two batches run at once. When nothing is due it waits on a durable timer for the earliest target (next
 * window, retry spacing) or a signal. Pause, resume and cancel are signals; progress is a query. Settings and
 * counters live in Postgres, so continue-as-new carries only the control state.
 */
export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResult> {
  const carry: CampaignCarry = input.carried ?? { paused: false, runs: 0, batches: 0, sent: 0 };
  const { campaignId, trace } = input;
  let paused = carry.paused;
  let cancelled: ControlArgs | null = null;
  let changes = 0;
  let inFlight = 0;
  let finishedBatches = 0;
  let batchesThisRun = 0;
  let sent = carry.sent;
  let nextWakeAt: number | null = null;
  /** The last send slot booked by this run: the sender is busy until then. */
  let bookedUntil = 0;
  let counters: CampaignCounters | null = null;
  /** Issue 21 F: the last hold or refusal by the outbound policy seen in a batch (older workers report none). */
  let lastDecision: string | null = null;
  /** Issue 21 F: the Web UI's current details: status, counters, next wake and why, the policy's last word. */
  const details = (next: string | null) =>
    showDetails(`Campaign ${cancelled ? 'cancelling' : paused ? 'paused' : 'active'}`, [
      ['next', next],
      ['last policy decision', lastDecision],
      [
        'targets',
        counters
          ? `${counters.total} total · ${counters.contacted} contacted · ${counters.successful} successful · ${counters.failed} failed · ${counters.skipped} skipped · ${counters.optedOut} opted out · ${counters.open} open`
          : null,
      ],
      ['batches in flight', inFlight || null],
      ['sent (this campaign)', sent],
      ['campaign', campaignId],
    ]);
  const controls: { event: 'paused' | 'resumed'; args: ControlArgs }[] = [];
  const scopes = new Set<CancellationScope>();

  setHandler(pauseCampaignSignal, (args) => {
    if (paused || cancelled) return;
    paused = true;
    controls.push({ event: 'paused', args });
    for (const scope of scopes) scope.cancel();
  });
  setHandler(resumeCampaignSignal, (args) => {
    if (!paused || cancelled) return;
    paused = false;
    controls.push({ event: 'resumed', args });
  });
  setHandler(cancelCampaignSignal, (args) => {
    if (cancelled) return;
    cancelled = args;
    for (const scope of scopes) scope.cancel();
  });
  setHandler(targetsChangedSignal, () => {
    changes += 1;
  });
  setHandler(campaignProgressQuery, () => ({
    campaignId,
    status: cancelled ? 'cancelled' : paused ? 'paused' : 'active',
    paused,
    inFlight,
    nextWakeAt,
    run: carry.runs + 1,
    batchesThisRun,
    sentThisCampaign: sent,
    counters,
  }));

  // Decided once, before the first command: a run recorded before the patch replays with the old cadence.
  const claimAhead = patched(CLAIM_AHEAD_PATCH);
  const lookaheadMs = claimAhead ? CLAIM_AHEAD_MS : LOOKAHEAD_MS;
  const maxInFlight = claimAhead ? CLAIM_AHEAD_MAX_IN_FLIGHT : MAX_IN_FLIGHT;

  /** Read through a function: the signal handlers change these while the loop awaits an activity. */
  const isHalted = () => paused || cancelled !== null;
  const setStatus = async (status: CampaignStatus, event: string, args: ControlArgs, reason?: string) => {
    await campaignDb.setCampaignStatus({
      campaignId,
      trace,
      status,
      event,
      actor: args.actor,
      ...((reason ?? args.reason) ? { reason: reason ?? args.reason } : {}),
    });
    upsertSearchAttributes([{ key: searchAttributes.CAMPAIGN_STATUS, value: status }]);
  };

  if (carry.runs === 0 && carry.batches === 0)
    await setStatus(paused ? 'paused' : 'active', 'started', { actor: 'workflow' });

  const launch = (targets: ClaimedTarget[]) => {
    const scope = new CancellationScope();
    scopes.add(scope);
    inFlight += 1;
    batchesThisRun += 1;
    void scope
      .run(async () => {
        const result = await campaignSend.sendCampaignBatch.executeWithOptions(
          summary(`send ${targets.length} target(s), slots until ${iso(Math.max(...targets.map((t) => t.slotAt)))}`),
          [{ campaignId, trace, targets }],
        );
        sent += result.sent;
        if (result.lastDecision) lastDecision = result.lastDecision;
        // Retryable failures (429, 5xx, timeouts) get Temporal's backoff one by one; the batch does not wait for them.
        await Promise.all(
          result.retry.map(async (target) => {
            try {
              const r = await campaignRetrySend.sendCampaignTarget({ campaignId, trace, target });
              if (r.sent) sent += 1;
            } catch (error) {
              if (isCancellation(error)) throw error;
              if (!(error instanceof ActivityFailure)) throw error;
              await campaignDb.giveUpCampaignSend({ campaignId, trace, target });
            }
          }),
        );
      })
      .catch((error: unknown) => {
        if (!isCancellation(error)) log.error('campaign send batch failed', { campaignId, error: String(error) });
      })
      .finally(() => {
        scopes.delete(scope);
        inFlight -= 1;
        finishedBatches += 1;
      });
  };

  for (;;) {
    const control = controls.shift();
    if (control) {
      await condition(() => inFlight === 0);
      await setStatus(control.event === 'paused' ? 'paused' : 'active', control.event, control.args);
      continue;
    }
    if (cancelled) {
      await condition(() => inFlight === 0);
      await setStatus('cancelled', 'cancelled', cancelled);
      break;
    }
    if (paused) {
      details('paused by an operator: waiting for resume or cancel');
      await condition(() => !paused || cancelled !== null || controls.length > 0);
      continue;
    }
    if (batchesThisRun >= MAX_BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(() => inFlight === 0);
      await condition(allHandlersFinished);
      if (controls.length > 0 || cancelled) continue;
      await continueAsNew<typeof campaignWorkflow>({
        ...input,
        carried: { paused, runs: carry.runs + 1, batches: carry.batches + batchesThisRun, sent },
      });
    }
    if (inFlight >= maxInFlight) {
      await condition(() => inFlight < maxInFlight || paused || cancelled !== null);
      continue;
    }
    if (inFlight > 0 && bookedUntil - Date.now() > lookaheadMs) {
      await condition(
        () => inFlight === 0 || paused || cancelled !== null || controls.length > 0,
        bookedUntil - lookaheadMs - Date.now(),
        summary(`next claim when the booked send slots end (${iso(bookedUntil)})`),
      );
      continue;
    }

    const seenChanges = changes;
    const seenFinished = finishedBatches;
    const claim = await campaignDb.claimCampaignBatch({ campaignId, trace });
    counters = claim.counters;
    if (claim.phase === 'ended') {
      await condition(() => inFlight === 0);
      await setStatus('completed', 'ended', { actor: 'workflow' }, 'end_date');
      break;
    }
    if (claim.phase === 'waiting_start') {
      nextWakeAt = claim.wakeAt;
      details(`campaign starts at ${iso(claim.wakeAt)}`);
      await condition(
        () => paused || cancelled !== null || changes !== seenChanges,
        Math.max(1, claim.wakeAt - Date.now()),
        summary(`campaign starts at ${iso(claim.wakeAt)}`),
      );
      continue;
    }
    if (claim.targets.length > 0 && isHalted()) {
      // A pause or cancel arrived while the claim ran: its scopes were cancelled before this batch existed.
      await campaignDb.releaseCampaignClaims({ campaignId, trace, targets: claim.targets });
      continue;
    }
    if (claim.targets.length > 0) {
      nextWakeAt = null;
      bookedUntil = Math.max(...claim.targets.map((t) => t.slotAt));
      launch(claim.targets);
      details(`sending: ${claim.targets.length} target(s) booked until ${iso(bookedUntil)}`);
      continue;
    }
    if (claim.counters.open === 0 && inFlight === 0) {
      await setStatus('completed', 'completed', { actor: 'workflow' });
      break;
    }
    // Nothing due now: a durable timer to the earliest due target (active hours, retry spacing, delivery timeout),
    // cut short by a finished batch, a delivery callback that scheduled a retry, or an operator's signal.
    nextWakeAt = claim.nextWakeAt;
    const wait = nextWakeAt === null ? undefined : Math.max(1, nextWakeAt - Date.now());
    // Issue 21 F: why it sleeps — a target held by the outbound policy, active hours, retry spacing, a delivery
    // timeout (the claim reads it from the earliest target; older workers answer without a reason).
    const why =
      nextWakeAt === null
        ? inFlight > 0
          ? 'waiting for the running send batches'
          : 'waiting for delivery outcomes or new targets'
        : (claim.nextWakeReason ?? `next target due at ${iso(nextWakeAt)}`);
    details(why);
    const until = () =>
      paused ||
      cancelled !== null ||
      changes !== seenChanges ||
      finishedBatches !== seenFinished ||
      controls.length > 0;
    if (wait === undefined) await condition(until);
    else await condition(until, wait, summary(why));
  }
  await condition(allHandlersFinished);
  return { status: cancelled ? 'cancelled' : 'completed', counters, runs: carry.runs + 1 };
}
