import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  campaignWorkflowId,
  FailureType,
  targetsChangedSignal,
  type ReconcileInput,
  type ReconcileResult,
} from '../contract';
import { raiseAlerts } from '../db/events/alerts';
import { applyDeliveryStatus } from '../db/ingress/delivery-status';
import { recordMessagePrices } from '../db/outbound/policy';
import {
  advanceReconcileWatermark,
  findOutboundBySids,
  findStoredSids,
  findUnsettledOutbound,
  loadReconcileTenant,
  reconcileWatermark,
} from '../db/ingress/reconcile';
import { formatAddress } from '../domain/address';
import { canAdvanceStatus } from '../domain/message-status';
import { newRootTrace } from '../domain/trace';
import type { ListedMessage, TwilioCredentials } from '../integrations/twilio-gateway';
import {
  InboundParamsError,
  MAX_MEDIA,
  parseInboundParams,
  toInboundInput,
  type TwilioParams,
} from '../integrations/twilio-inbound';
import { startInboundWorkflow } from '../temporal/start-inbound';
import { startRecordedRedelivery } from '../temporal/start-redelivery';
import { openSecret } from '../secrets/keyring';
import type { ActivityDeps } from './deps';

/** Twilio allows 1000 per page; 200 keeps each request quick while a run of 25 pages still covers 5,000 messages. */
export const RECONCILE_PAGE_SIZE = 200;
const DEFAULTS = { settleAfterMs: 15 * 60_000, maxPages: 25, maxLookbackMs: 7 * 86_400_000 };
/** Our own unsettled sends fetched one by one per account and run (the listing did not show them): bounded. */
export const RECONCILE_FETCH_LIMIT = 200;

/** Statuses after which nothing more is expected for settling purposes (read may still follow delivered: harmless). */
const SETTLED = new Set(['delivered', 'read', 'undelivered', 'failed', 'canceled']);

type Counts = Omit<ReconcileResult, 'tenantSlug' | 'since' | 'until' | 'accounts' | 'truncated'>;

/**
 * Reconciliation of one tenant with Twilio's own record of its messages, for what never reached us: inbound
 * messages whose webhook was lost (our host down past Twilio's single retry) and outbound messages whose status
 * callbacks were lost. Everything goes through the paths the callbacks use (startInboundWorkflow, applyDeliveryStatus),
 * so running it twice, or alongside a late webhook, changes nothing more.
 */
export async function reconcileTenant(
  deps: ActivityDeps,
  input: ReconcileInput,
  heartbeat: (progress: unknown) => void = () => undefined,
): Promise<ReconcileResult> {
  const { settleAfterMs, maxPages } = deps.config.reconcile ?? DEFAULTS;
  const maxLookbackMs = deps.config.reconcile?.maxLookbackMs ?? DEFAULTS.maxLookbackMs;
  const loaded = await loadReconcileTenant(deps.db, input.tenantSlug);
  if (!loaded)
    throw ApplicationFailure.create({
      type: FailureType.NotFound,
      message: `no tenant ${input.tenantSlug}`,
      nonRetryable: true,
    });
  const { tenant, accounts, numbers } = loaded;

  const until = deps.clock();
  // B: a scheduled run reaches back to the last run that listed its whole window, with the usual window as overlap
  // (a message sent just before that run may have been logged by Twilio just after it listed).
  const watermark = await reconcileWatermark(deps.db, tenant.id);
  const normalSince = until.getTime() - input.lookbackMs;
  const caughtUpSince =
    input.catchUp && watermark
      ? Math.max(watermark.getTime() - input.lookbackMs, until.getTime() - maxLookbackMs)
      : normalSince;
  const since = new Date(Math.min(normalSince, caughtUpSince));
  const caughtUpFrom = caughtUpSince < normalSince && watermark ? watermark.toISOString() : null;
  // A window that starts after the mark (a manual `--since 10m` after a long outage) leaves a gap behind it: it must
  // not move the mark, or the gap would never be listed. The first scheduled run sets it.
  const contiguous = watermark ? since.getTime() <= watermark.getTime() : input.catchUp === true;
  const log = deps.log.child({ tenant: tenant.slug, reconcile: true });
  const counts: Counts = {
    pages: 0,
    listed: 0,
    inboundMissingFed: 0,
    inboundAlreadyKnown: 0,
    inboundInvalid: 0,
    outboundSettled: 0,
    outboundStillOpen: 0,
    outboundNotDue: 0,
    outboundFetched: 0,
    outboundPriced: 0,
  };
  let truncated = false;

  for (const account of accounts) {
    const credentials: TwilioCredentials = { accountSid: account.accountSid, authToken: openSecret(account.authToken) };
    const ours = new Set(
      numbers.filter((n) => n.accountId === account.id).map((n) => formatAddress(n.channel, n.phone)),
    );
    const missing: ListedMessage[] = [];
    const listedOutbound = new Set<string>();
    let more = false;
    for await (const page of deps.twilio.listSince(credentials, { since, pageSize: RECONCILE_PAGE_SIZE, maxPages })) {
      counts.pages += 1;
      counts.listed += page.messages.length;
      more = page.hasMore;
      const inbound = page.messages.filter((m) => m.direction === 'inbound' && ours.has(m.to));
      const known = await findStoredSids(
        deps.db,
        tenant.id,
        inbound.map((m) => m.sid),
      );
      for (const m of inbound) {
        if (known.has(m.sid)) counts.inboundAlreadyKnown += 1;
        else missing.push(m);
      }
      const outbound = page.messages.filter((m) => m.direction === 'outbound');
      for (const m of outbound) listedOutbound.add(m.sid);
      await settleOutbound(deps, tenant.id, outbound, until.getTime() - settleAfterMs, counts);
      heartbeat({ pages: counts.pages });
    }
    // Issue 22 D: the listing filters on DateSent, which a message Twilio never sent (failed before sending, still
    // queued or accepted) does not have. Our own unsettled sends of the window, by OUR send time, are fetched one
    // by one and settled through the same path.
    const unsettled = (
      await findUnsettledOutbound(deps.db, tenant.id, {
        from: since,
        to: new Date(until.getTime() - settleAfterMs),
        limit: RECONCILE_FETCH_LIMIT,
      })
    ).filter((m) => ours.has(m.fromAddress) && !listedOutbound.has(m.sid));
    for (const m of unsettled) {
      const fetched = await deps.twilio.fetchMessage(credentials, m.sid);
      counts.outboundFetched += 1;
      if (fetched) await settleOutbound(deps, tenant.id, [fetched], until.getTime() - settleAfterMs, counts);
      heartbeat({ pages: counts.pages, fetched: counts.outboundFetched });
    }
    // The listing ends at the last page or at the page limit; Twilio still having more means the limit cut it.
    truncated ||= more;
    // Oldest first: a customer's missed messages reach their conversation in the order they were written.
    missing.sort((a, b) => sentAt(a).getTime() - sentAt(b).getTime());
    for (const m of missing) {
      const outcome = await feedInbound(deps, tenant, credentials, m);
      if (outcome === 'started') counts.inboundMissingFed += 1;
      else if (outcome === 'duplicate') counts.inboundAlreadyKnown += 1;
      else {
        counts.inboundInvalid += 1;
        log.warn(
          { messageSid: m.sid, reason: outcome.invalid },
          'reconcile: Twilio message not usable as an inbound message',
        );
      }
      heartbeat({ pages: counts.pages });
    }
  }

  const result: ReconcileResult = {
    tenantSlug: tenant.slug,
    since: since.toISOString(),
    until: until.toISOString(),
    accounts: accounts.length,
    truncated,
    ...counts,
    caughtUpFrom,
  };
  // Only a run that saw its whole window moves the mark: a truncated one leaves the next run to cover it again.
  if (!truncated && contiguous) await advanceReconcileWatermark(deps.db, tenant.id, until);
  const alerts = [];
  if (result.inboundMissingFed > 0) {
    alerts.push({
      tenantId: tenant.id,
      type: 'reconciliation' as const,
      severity: 'medium' as const,
      payload: { ...result },
      message: `${result.inboundMissingFed} inbound message(s) never reached the webhook and were recovered from Twilio's log: check the webhook URL and the service's availability`,
    });
  }
  if (truncated) {
    alerts.push({
      tenantId: tenant.id,
      type: 'reconciliation' as const,
      severity: 'high' as const,
      payload: { ...result },
      message: `reconciliation stopped at ${maxPages} page(s) per account: older messages of the window were not checked (raise RECONCILE_MAX_PAGES or run causeway reconcile with a shorter --since)`,
    });
  }
  await raiseAlerts(deps.db, alerts);
  log.info({ ...result }, 'reconciliation done');
  return result;
}

const sentAt = (m: ListedMessage) => m.dateSent ?? m.dateCreated;

/**
 * A listed inbound message rendered as the webhook's parameters, through the webhook's own builder. The list has
 * only NumMedia: media URLs and types come from the message's Media subresource (one call, only when it has media).
 */
async function feedInbound(
  deps: ActivityDeps,
  tenant: { id: string; slug: string },
  credentials: TwilioCredentials,
  m: ListedMessage,
): Promise<'started' | 'duplicate' | { invalid: string }> {
  const params: TwilioParams = {
    MessageSid: m.sid,
    AccountSid: credentials.accountSid,
    From: m.from,
    To: m.to,
    Body: m.body,
    NumMedia: String(Math.min(m.numMedia, MAX_MEDIA)),
  };
  if (m.numMedia > 0) {
    const media = (await deps.twilio.media(credentials, m.sid)).slice(0, MAX_MEDIA);
    params.NumMedia = String(media.length);
    media.forEach((item, i) => {
      params[`MediaUrl${i}`] = item.url;
      if (item.contentType) params[`MediaContentType${i}`] = item.contentType;
    });
  }
  let parsed;
  try {
    parsed = parseInboundParams(params);
  } catch (error) {
    if (error instanceof InboundParamsError) return { invalid: error.message };
    throw error;
  }
  const input = toInboundInput(
    params,
    parsed,
    { tenantId: tenant.id, tenantSlug: tenant.slug },
    { receivedAt: sentAt(m), trace: newRootTrace() },
  );
  return startInboundWorkflow(deps.temporal.client, deps.temporal.taskQueue, input);
}

/** Our outbound messages in the page: those still open past the settle time get Twilio's current status. */
async function settleOutbound(
  deps: ActivityDeps,
  tenantId: string,
  listed: ListedMessage[],
  dueBefore: number,
  counts: Counts,
) {
  if (listed.length === 0) return;
  // Twilio's price shows on the Message resource once sent (never in a callback): kept with the send's decision.
  const priced = listed.flatMap((m) =>
    m.direction === 'outbound' && m.price !== null ? [{ sid: m.sid, price: m.price, priceUnit: m.priceUnit }] : [],
  );
  counts.outboundPriced = (counts.outboundPriced ?? 0) + (await recordMessagePrices(deps.db, tenantId, priced));
  const rows = await findOutboundBySids(
    deps.db,
    tenantId,
    listed.map((m) => m.sid),
  );
  const bySid = new Map(rows.map((r) => [r.sid, r]));
  for (const m of listed) {
    const row = bySid.get(m.sid);
    if (!row || SETTLED.has(row.status)) continue;
    if (row.createdAt.getTime() > dueBefore) {
      counts.outboundNotDue += 1;
      continue;
    }
    if (canAdvanceStatus(row.status, m.status)) {
      const { outcome, campaignToNotify, redeliver } = await applyDeliveryStatus(deps.db, {
        tenantId,
        messageSid: m.sid,
        status: m.status,
        errorCode: m.errorCode,
      });
      if (outcome === 'updated') deps.metrics?.messageStatus.inc({ status: m.status });
      // A failure whose callback was lost may call for a resend (63016 → template, a retryable code): as the webhook would.
      if (redeliver) {
        await startRecordedRedelivery(deps.db, deps.temporal.client, deps.temporal.taskQueue, redeliver, {
          backoffBaseMs: deps.config.deliveryRetryBackoffMs,
        }).catch((error: unknown) =>
          deps.log.warn({ err: (error as Error).name }, 'reconcile: redelivery left to the inbox drain'),
        );
      }
      if (campaignToNotify) {
        await deps.temporal.client.workflow
          .getHandle(campaignWorkflowId(campaignToNotify))
          .signal(targetsChangedSignal)
          .catch((error: unknown) =>
            deps.log.warn({ err: error }, 'reconcile: could not notify the campaign workflow'),
          );
      }
    }
    if (SETTLED.has(m.status)) counts.outboundSettled += 1;
    else counts.outboundStillOpen += 1;
  }
}

export function createReconcileActivities(deps: ActivityDeps) {
  return {
    async reconcileTenant(input: ReconcileInput): Promise<ReconcileResult> {
      return reconcileTenant(deps, input, (progress) => Context.current().heartbeat(progress));
    },
  };
}
