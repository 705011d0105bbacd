import type { Client } from '@temporalio/client';
// The error classes from @temporalio/common (the client re-exports them): the CLI loads the client only to call it.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import {
  campaignProgressQuery,
  campaignWorkflowId,
  cancelCampaignSignal,
  pauseCampaignSignal,
  resumeCampaignSignal,
  searchAttributes,
  type CampaignInput,
  type CampaignProgress,
  type Channel,
  type ControlArgs,
  type TraceContext,
  type Workflows,
  workflowType,
} from '../contract';
import type { Database, DbOrTx } from '../db/core/client';
import {
  campaignNameTaken,
  createCampaignFromRows,
  findCampaign,
  tenantLocale,
  tenantNumbersOn,
  type CampaignKind,
  type CampaignSettings,
  type Strategy,
} from '../db/campaigns/campaigns';
import { createOutageWithCampaign, findOutage, resolveOutageWithCampaign } from '../db/campaigns/outages';
import { loadMessageTemplate } from '../db/knowledge/templates';
import { formatActiveHours, isValidTimeZone, parseActiveHours, ActiveHoursError } from '../domain/active-hours';
import { formatAddress, parseAddress } from '../domain/address';
import { detectFormat, parseTargets } from '../domain/campaign-import';
import { childSpan, newRootTrace } from '../domain/trace';
import { recordEvents } from '../db/events/events';
import { runWithTrace } from '../tracing/context';
import type { OperatorContext } from './context';
import { ServiceError } from './errors';
import { tenantBySlug } from './tenants';

/*
 * Campaigns and outages (C1–C5). Bad input is a ServiceError `invalid` whose details are the file's bad rows (none
 * of them imported); a name that finds nothing is `not_found`. The verbs at the end (createCampaign,
 * requestCampaignStart, requestCampaignControl, declareOutage, endOutage) are what the CLI calls: each runs in its
 * own trace (T1: a command is an entry point) and records its trace event, so the CLI only parses and prints.
 */

export interface CampaignOptions {
  name: string;
  description?: string;
  kind?: CampaignKind;
  channel?: Channel;
  /** The tenant's number to send from (`+…` or `whatsapp:+…`); default: its first number on the channel. */
  sender?: string;
  templateKey?: string;
  body?: string;
  ratePerSecond?: number;
  maxAttempts?: number;
  attemptSpacingSeconds?: number;
  retryOnNoReply?: boolean;
  activeHours?: string;
  timeZone?: string;
  strategy?: Strategy;
  startAt?: Date | null;
  endAt?: Date | null;
}

export const CAMPAIGN_DEFAULTS = {
  ratePerSecond: 10,
  maxAttempts: 3,
  attemptSpacingSeconds: 3600,
  activeHours: 'mon-fri 08:00-20:00; sat 08:00-14:00',
  timeZone: 'America/Sao_Paulo',
  strategy: 'sequential' as Strategy,
};

/** Validates settings against the tenant (its sender, its templates) before anything is written. */
export async function resolveSettings(db: DbOrTx, tenantId: string, o: CampaignOptions): Promise<CampaignSettings> {
  const problems: string[] = [];
  if (!o.name.trim() || o.name.length > 120) problems.push('--name must be 1–120 characters');
  const channel: Channel = o.channel ?? (o.sender ? (parseAddress(o.sender)?.channel ?? 'whatsapp') : 'whatsapp');
  let sender: string | null = null;
  const numbers = await tenantNumbersOn(db, tenantId, channel);
  if (o.sender) {
    const parsed = parseAddress(o.sender);
    if (!parsed) problems.push('--sender must be +E164 or whatsapp:+E164');
    else if (!numbers.some((n) => n.phone === parsed.phone))
      problems.push(`--sender ${o.sender} is not one of the tenant's ${channel} numbers`);
    else sender = formatAddress(channel, parsed.phone);
  } else if (numbers[0]) sender = formatAddress(channel, numbers[0].phone);
  else problems.push(`the tenant has no ${channel} number to send from`);
  if (!o.templateKey === !o.body) problems.push('give exactly one of --template or --body');
  if (o.templateKey) {
    if (!(await loadMessageTemplate(db, tenantId, o.templateKey, (await tenantLocale(db, tenantId)) ?? 'en')))
      problems.push(`no message template "${o.templateKey}"`);
  }
  if (o.body !== undefined && (o.body.trim().length === 0 || o.body.length > 1600))
    problems.push('--body must be 1–1600 characters');
  const rate = o.ratePerSecond ?? CAMPAIGN_DEFAULTS.ratePerSecond;
  if (!(rate > 0 && rate <= 1000)) problems.push('--rate must be more than 0 and at most 1000 messages per second');
  const maxAttempts = o.maxAttempts ?? CAMPAIGN_DEFAULTS.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10)
    problems.push('--max-attempts must be 1–10');
  const spacing = o.attemptSpacingSeconds ?? CAMPAIGN_DEFAULTS.attemptSpacingSeconds;
  if (!Number.isInteger(spacing) || spacing < 1 || spacing > 30 * 86_400)
    problems.push('--attempt-spacing must be between 1s and 30d');
  let activeHours = '';
  try {
    activeHours = formatActiveHours(parseActiveHours(o.activeHours ?? CAMPAIGN_DEFAULTS.activeHours));
  } catch (error) {
    if (!(error instanceof ActiveHoursError)) throw error;
    problems.push(`--active-hours: ${error.message}`);
  }
  const timeZone = o.timeZone ?? CAMPAIGN_DEFAULTS.timeZone;
  if (!isValidTimeZone(timeZone)) problems.push(`--time-zone ${timeZone} is not an IANA time zone`);
  const strategy = o.strategy ?? CAMPAIGN_DEFAULTS.strategy;
  if (!['sequential', 'priority', 'random'].includes(strategy))
    problems.push('--strategy must be sequential, priority or random');
  if (o.startAt && o.endAt && o.endAt <= o.startAt) problems.push('--end must be after --start');
  if (await campaignNameTaken(db, tenantId, o.name)) problems.push(`a campaign named "${o.name}" already exists`);
  if (problems.length > 0) throw new ServiceError('invalid', problems.join('\n'));
  return {
    name: o.name,
    description: o.description ?? null,
    kind: o.kind ?? (o.templateKey === 'collection_notice' ? 'collection' : 'broadcast'),
    channel,
    sender: sender!,
    templateKey: o.templateKey ?? null,
    body: o.body ?? null,
    ratePerSecond: rate,
    maxAttempts,
    attemptSpacingSeconds: spacing,
    retryOnNoReply: o.retryOnNoReply ?? false,
    activeHours,
    defaultTimeZone: timeZone,
    strategy,
    startAt: o.startAt ?? null,
    endAt: o.endAt ?? null,
  };
}

/**
 * C1: a campaign from a CSV or JSON file. Every row is validated first; with any bad row nothing is imported and
 * the error lists them by line. Settings are checked against the tenant before the file is read.
 */
export async function createCampaignFromFile(
  db: Database,
  input: {
    tenantId: string;
    options: CampaignOptions;
    file: { name: string; content: string };
    defaultCountryCode?: string;
    createdBy: string;
    traceId: string;
  },
) {
  const settings = await resolveSettings(db, input.tenantId, input.options);
  const format = detectFormat(input.file.name, input.file.content);
  const parsed = parseTargets(
    input.file.content,
    format,
    input.defaultCountryCode ? { defaultCountryCode: input.defaultCountryCode } : {},
  );
  if (parsed.errors.length > 0)
    throw new ServiceError(
      'invalid',
      `${parsed.errors.length} bad row(s) in ${input.file.name}; nothing was imported`,
      {
        details: parsed.errors,
      },
    );
  if (parsed.rows.length === 0) throw new ServiceError('invalid', `${input.file.name} has no targets`);
  return createCampaignFromRows(db, {
    tenantId: input.tenantId,
    settings,
    rows: parsed.rows,
    createdBy: input.createdBy,
    traceId: input.traceId,
  });
}

export async function requireCampaign(db: DbOrTx, tenantId: string, ref: string) {
  const campaign = await findCampaign(db, tenantId, ref);
  if (!campaign) throw new ServiceError('not_found', `no campaign ${ref}`);
  return campaign;
}

/**
 * Starts `campaign:<id>`. Starting twice is harmless: the id is the campaign's, a running workflow is reported,
 * and a finished one is never run again (its sends are in the outbox anyway).
 */
export async function startCampaign(
  client: Client,
  input: {
    campaignId: string;
    tenantId: string;
    tenantSlug: string;
    taskQueue: string;
    trace: TraceContext;
    name: string;
  },
): Promise<{ started: boolean; workflowId: string }> {
  const workflowId = campaignWorkflowId(input.campaignId);
  const args: CampaignInput = {
    campaignId: input.campaignId,
    tenantId: input.tenantId,
    tenantSlug: input.tenantSlug,
    trace: input.trace,
  };
  try {
    await client.workflow.start<Workflows['campaignWorkflow']>(workflowType.campaignWorkflow, {
      workflowId,
      taskQueue: input.taskQueue,
      args: [args],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: searchAttributes.TENANT, value: input.tenantSlug },
        { key: searchAttributes.CAMPAIGN_ID, value: input.campaignId },
        { key: searchAttributes.CAMPAIGN_STATUS, value: 'active' },
        { key: searchAttributes.TRACE_ID, value: input.trace.traceId },
      ],
      staticSummary: `Campaign "${input.name}"`,
    });
    return { started: true, workflowId };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { started: false, workflowId };
    throw error;
  }
}

export type ControlAction = 'pause' | 'resume' | 'cancel';

export async function controlCampaign(
  client: Client,
  campaignId: string,
  action: ControlAction,
  args: ControlArgs,
): Promise<void> {
  const handle = client.workflow.getHandle(campaignWorkflowId(campaignId));
  const signal =
    action === 'pause' ? pauseCampaignSignal : action === 'resume' ? resumeCampaignSignal : cancelCampaignSignal;
  try {
    await handle.signal(signal, args);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new ServiceError('conflict', 'the campaign is not running (start it first, or it has finished)');
    throw error;
  }
}

/** The workflow's live view, or null when it is not running. */
export async function campaignProgress(client: Client, campaignId: string): Promise<CampaignProgress | null> {
  try {
    const handle = client.workflow.getHandle(campaignWorkflowId(campaignId));
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return null;
    return await handle.query(campaignProgressQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

/**
 * C5: an outage in some regions. Every contact of those regions (not opted out) is notified once: the notice
 * runs as a campaign of kind `outage` with the same pacing and active hours as any campaign.
 */
export async function createOutage(
  db: Database,
  input: {
    tenantId: string;
    name: string;
    regions: string[];
    message: string;
    options: Omit<CampaignOptions, 'name' | 'body' | 'templateKey' | 'kind'>;
    createdBy: string;
    traceId: string;
  },
) {
  const regions = [...new Set(input.regions.map((r) => r.trim().toLowerCase()).filter(Boolean))];
  if (regions.length === 0) throw new ServiceError('invalid', 'give at least one region');
  const settings = await resolveSettings(db, input.tenantId, {
    ...input.options,
    name: `outage: ${input.name}`,
    body: input.message,
    kind: 'outage',
  });
  const created = await createOutageWithCampaign(db, {
    tenantId: input.tenantId,
    name: input.name,
    regions,
    message: input.message,
    settings,
    createdBy: input.createdBy,
    traceId: input.traceId,
  });
  if (!created) throw new ServiceError('invalid', `no contacts in ${regions.join(', ')}`);
  return created;
}

/**
 * C5: the resolution message goes to exactly the contacts that were told about the outage. The outage row is
 * marked resolved first: that UPDATE waits for notice sends holding it (they lock it `FOR SHARE` in their claim),
 * and later notice sends see it resolved and stop, so no contact gets the notice after the resolution list is
 * drawn. A notice in flight (accepted by us, no final status yet) counts as told; a failed one does not.
 */
export async function resolveOutage(
  db: Database,
  input: {
    tenantId: string;
    failureRef: string;
    message: string;
    options: Omit<CampaignOptions, 'name' | 'body' | 'templateKey' | 'kind'>;
    createdBy: string;
    traceId: string;
  },
) {
  const failure = await findOutage(db, input.tenantId, input.failureRef);
  if (!failure) throw new ServiceError('not_found', `no outage ${input.failureRef}`);
  if (failure.status === 'resolved') throw new ServiceError('conflict', `outage "${failure.name}" is already resolved`);
  const settings = await resolveSettings(db, input.tenantId, {
    ...input.options,
    name: `resolved: ${failure.name}`,
    body: input.message,
    kind: 'outage_resolution',
  });
  const resolved = await resolveOutageWithCampaign(db, {
    tenantId: input.tenantId,
    failureId: failure.id,
    message: input.message,
    settings,
    createdBy: input.createdBy,
    traceId: input.traceId,
  });
  if (!resolved) throw new ServiceError('conflict', `outage "${failure.name}" is already resolved`);
  return { failureId: failure.id, notifyCampaignId: failure.notifyCampaignId, ...resolved };
}

type Tenant = { id: string; slug: string };
type OutageSettings = Omit<CampaignOptions, 'name' | 'body' | 'templateKey' | 'kind'>;

/** Runs a command in its own trace (T1: every command is an entry point), caused by `causalTraceId` when given. */
function asCommand<T>(causalTraceId: string | null, fn: (trace: TraceContext) => Promise<T>): Promise<T> {
  const trace = newRootTrace(causalTraceId);
  return runWithTrace(trace, () => fn(trace));
}

/** C1 for an operator: the tenant a command names, the campaign from its file, and the `campaign.created` event. */
export async function createCampaign(
  ctx: Pick<OperatorContext, 'db'>,
  input: {
    tenantSlug: string | undefined;
    options: CampaignOptions;
    file: { name: string; content: string };
    defaultCountryCode?: string;
    createdBy: string;
  },
) {
  return asCommand(null, async (trace) => {
    const tenant = await tenantBySlug(ctx.db, input.tenantSlug);
    const created = await createCampaignFromFile(ctx.db, {
      tenantId: tenant.id,
      options: input.options,
      file: input.file,
      ...(input.defaultCountryCode ? { defaultCountryCode: input.defaultCountryCode } : {}),
      createdBy: input.createdBy,
      traceId: trace.traceId,
    });
    await recordEvents(ctx.db, [
      {
        trace,
        type: 'campaign.created',
        tenantId: tenant.id,
        payload: { campaignId: created.campaignId, targets: created.imported, optedOut: created.optedOut },
      },
    ]);
    return { tenant, ...created, traceId: trace.traceId };
  });
}

/**
 * Starts a campaign for an operator (harmless twice) in a trace caused by the campaign's own, and records
 * `campaign.start_requested`. The workflow works in the campaign's trace: every send is a span of it, and replies
 * point back at it (T3).
 */
export async function requestCampaignStart(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  tenant: Tenant,
  campaignRef: string,
) {
  const c = await requireCampaign(ctx.db, tenant.id, campaignRef);
  return asCommand(c.traceId, async (trace) => {
    const result = await startCampaign(ctx.temporal.client, {
      campaignId: c.id,
      tenantId: tenant.id,
      tenantSlug: tenant.slug,
      taskQueue: ctx.temporal.taskQueue,
      trace: childSpan({ traceId: c.traceId, spanId: trace.spanId }),
      name: c.name,
    });
    await recordEvents(ctx.db, [
      {
        trace,
        type: 'campaign.start_requested',
        tenantId: tenant.id,
        payload: { campaignId: c.id, started: result.started },
      },
    ]);
    return { campaign: c, ...result };
  });
}

/** Pause, resume or cancel for an operator, recorded as `campaign.<action>_requested` in the campaign's trace. */
export async function requestCampaignControl(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  tenant: Tenant,
  campaignRef: string,
  action: ControlAction,
  args: ControlArgs,
) {
  const c = await requireCampaign(ctx.db, tenant.id, campaignRef);
  await asCommand(c.traceId, async (trace) => {
    await controlCampaign(ctx.temporal.client, c.id, action, args);
    await recordEvents(ctx.db, [
      { trace, type: `campaign.${action}_requested`, tenantId: tenant.id, payload: { campaignId: c.id } },
    ]);
  });
  return { campaign: c, workflowId: campaignWorkflowId(c.id) };
}

/** C5: records an outage (`outage.started`) and starts its notice campaign at once. */
export async function declareOutage(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  input: {
    tenantSlug: string | undefined;
    name: string;
    regions: string[];
    message: string;
    options: OutageSettings;
    createdBy: string;
  },
) {
  const { tenant, created } = await asCommand(null, async (trace) => {
    const tenant = await tenantBySlug(ctx.db, input.tenantSlug);
    const created = await createOutage(ctx.db, {
      tenantId: tenant.id,
      name: input.name,
      regions: input.regions,
      message: input.message,
      options: input.options,
      createdBy: input.createdBy,
      traceId: trace.traceId,
    });
    await recordEvents(ctx.db, [
      {
        trace,
        type: 'outage.started',
        tenantId: tenant.id,
        payload: { failureId: created.failureId, campaignId: created.campaignId, contacts: created.imported },
      },
    ]);
    return { tenant, created };
  });
  return { ...created, start: await requestCampaignStart(ctx, tenant, created.campaignId) };
}

/**
 * C5: resolves an outage (`outage.resolved`), cancels its notice campaign if it still runs (notices not sent yet
 * are refused at send time anyway; cancelling ends it at once) and starts the resolution campaign.
 */
export async function endOutage(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  input: {
    tenantSlug: string | undefined;
    failureRef: string;
    message: string;
    options: OutageSettings;
    createdBy: string;
  },
) {
  const { tenant, resolved } = await asCommand(null, async (trace) => {
    const tenant = await tenantBySlug(ctx.db, input.tenantSlug);
    const resolved = await resolveOutage(ctx.db, {
      tenantId: tenant.id,
      failureRef: input.failureRef,
      message: input.message,
      options: input.options,
      createdBy: input.createdBy,
      traceId: trace.traceId,
    });
    await recordEvents(ctx.db, [
      {
        trace,
        type: 'outage.resolved',
        tenantId: tenant.id,
        payload: { failureId: resolved.failureId, campaignId: resolved.campaignId, contacts: resolved.notified },
      },
    ]);
    return { tenant, resolved };
  });
  let noticesCancelled = false;
  if (resolved.notifyCampaignId) {
    try {
      await controlCampaign(ctx.temporal.client, resolved.notifyCampaignId, 'cancel', {
        actor: input.createdBy,
        reason: 'outage resolved',
      });
      noticesCancelled = true;
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
    }
  }
  return { ...resolved, noticesCancelled, start: await requestCampaignStart(ctx, tenant, resolved.campaignId) };
}
