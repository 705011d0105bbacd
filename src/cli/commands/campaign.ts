import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { campaignWorkflowId, type CampaignProgress } from '../../contract';
import { listCampaigns, targetStateCounts } from '../../db/campaigns/campaigns';
import { parseDuration } from '../../domain/duration';
import {
  CAMPAIGN_DEFAULTS,
  campaignProgress,
  createCampaign,
  declareOutage,
  endOutage,
  requestCampaignControl,
  requestCampaignStart,
  requireCampaign,
  type CampaignOptions,
  type ControlAction,
} from '../../services/campaigns';
import { tenantBySlug } from '../../services/tenants';
import type { TemporalClientHandle } from '../../temporal/connection';
import { cliServiceContext, CliError, type CliContext } from '../context';
import type { CampaignRow } from '../../db/campaigns/dispatch';

type Campaign = CampaignRow;
type Db = Awaited<ReturnType<CliContext['database']>>['db'];

interface SettingsFlags {
  sender?: string;
  channel?: string;
  rate: string;
  maxAttempts: string;
  attemptSpacing: string;
  retryOnNoReply: boolean;
  activeHours: string;
  timeZone: string;
  strategy: string;
  start?: string;
  end?: string;
}

function settingsOptions(command: Command): Command {
  return command
    .option(
      '--sender <address>',
      "the tenant's number to send from, +E164 or whatsapp:+E164 (default: its first WhatsApp number)",
    )
    .option('--channel <channel>', 'whatsapp or sms (default: from --sender, else whatsapp)')
    .option(
      '--rate <n>',
      'messages per second from this sender (shared with its other campaigns)',
      String(CAMPAIGN_DEFAULTS.ratePerSecond),
    )
    .option(
      '--max-attempts <n>',
      'attempts per target (a failed or undelivered send is retried)',
      String(CAMPAIGN_DEFAULTS.maxAttempts),
    )
    .option('--attempt-spacing <duration>', 'time between two attempts to one target', '1h')
    .option('--retry-on-no-reply', 'also send another attempt when the target did not reply within the spacing', false)
    .option(
      '--active-hours <spec>',
      'when sends may go out, in each target\'s time zone, e.g. "mon-fri 08:00-20:00; sat 08:00-14:00" or "always"',
      CAMPAIGN_DEFAULTS.activeHours,
    )
    .option('--time-zone <iana>', 'time zone of targets that have none', CAMPAIGN_DEFAULTS.timeZone)
    .option(
      '--strategy <s>',
      'order of targets: sequential (file order), priority (highest first) or random',
      CAMPAIGN_DEFAULTS.strategy,
    )
    .option('--start <iso>', 'do not send before this instant (ISO 8601)')
    .option('--end <iso>', 'stop at this instant; what has not gone out by then is skipped');
}

function toOptions(f: SettingsFlags): Omit<CampaignOptions, 'name'> {
  const number = (flag: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new CliError(`${flag} must be a number`);
    return n;
  };
  const instant = (flag: string, value: string | undefined) => {
    if (value === undefined) return null;
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw new CliError(`${flag} must be an ISO 8601 date-time`);
    return new Date(t);
  };
  let spacingMs: number;
  try {
    spacingMs = parseDuration(f.attemptSpacing);
  } catch (error) {
    throw new CliError(`--attempt-spacing: ${(error as Error).message}`);
  }
  if (f.channel && f.channel !== 'whatsapp' && f.channel !== 'sms')
    throw new CliError('--channel must be whatsapp or sms');
  return {
    ...(f.sender ? { sender: f.sender } : {}),
    ...(f.channel ? { channel: f.channel as 'whatsapp' | 'sms' } : {}),
    ratePerSecond: number('--rate', f.rate),
    maxAttempts: number('--max-attempts', f.maxAttempts),
    attemptSpacingSeconds: Math.round(spacingMs / 1000),
    retryOnNoReply: f.retryOnNoReply,
    activeHours: f.activeHours,
    timeZone: f.timeZone,
    strategy: f.strategy as CampaignOptions['strategy'],
    startAt: instant('--start', f.start),
    endAt: instant('--end', f.end),
  };
}

/**
 * The Temporal client, its SDK loading while the command's first queries run (the database answers first; loading
 * the SDK takes longer than a query). Await it where it is needed; closeLoaded() in the `finally`.
 */
function loadWhileQuerying(ctx: () => CliContext): Promise<TemporalClientHandle> {
  const handle = ctx().temporal();
  handle.catch(() => undefined); // awaited later; a failure surfaces there
  return handle;
}

const closeLoaded = (handle: Promise<TemporalClientHandle>) =>
  handle.then(
    (h) => h.close(),
    () => undefined,
  );

const services = (ctx: () => CliContext, db: Db, temporal: TemporalClientHandle) =>
  cliServiceContext(ctx(), db, temporal);

const pct = (n: number, total: number) => (total === 0 ? '0%' : `${Math.round((n / total) * 100)}%`);

function describe(c: Campaign, states: Record<string, number>, progress: CampaignProgress | null): string {
  const lines = [
    `campaign ${c.name} (${c.id})`,
    `  status      ${c.status}${progress ? ` · workflow running (run ${progress.run}, ${progress.inFlight} batch(es) in flight${progress.nextWakeAt ? `, next wake ${new Date(progress.nextWakeAt).toISOString()}` : ''})` : ''}`,
    `  kind        ${c.kind} via ${c.channel} from ${c.sender} at ${c.ratePerSecond}/s, ${c.maxAttempts} attempt(s) every ${c.attemptSpacingSeconds}s, ${c.strategy}`,
    `  hours       ${c.activeHours} (default zone ${c.defaultTimeZone})`,
    `  targets     ${c.totalTargets} total · ${c.contactedTargets} contacted (${pct(c.contactedTargets, c.totalTargets)}) · ${c.successfulContacts} successful · ${c.failedTargets} failed · ${c.optedOutTargets} opted out · ${c.skippedTargets} skipped`,
    `  promises    ${c.promisesMade} made · ${c.promisesFulfilled} fulfilled · ${c.promisesBroken} broken`,
    `  by state    ${
      Object.entries(states)
        .map(([k, v]) => `${k} ${v}`)
        .join(' · ') || '-'
    }`,
  ];
  return lines.join('\n');
}

export function registerCampaignCommands(program: Command, ctx: () => CliContext) {
  const campaign = program
    .command('campaign')
    .description('outbound campaigns: create from a file, start, pause, resume, cancel, status, list');

  settingsOptions(
    campaign
      .command('create')
      .description(
        'create a campaign from a CSV or JSON file of targets (validated first: nothing is imported if any row is bad)',
      )
      .requiredOption('--name <name>', 'unique name (commands accept it instead of the id)')
      .requiredOption(
        '--file <path>',
        'targets: .csv (header: phone,name,time_zone,region,priority,debt_amount,due_date,document,…) or .json',
      )
      .option(
        '--template <key>',
        'message template key (e.g. collection_notice); WhatsApp templates use their ContentSid',
      )
      .option('--body <text>', 'literal text instead of a template ({{name}} and file columns are filled in)')
      .option('--description <text>', 'free text')
      .option('--country-code <digits>', 'prefix for phone numbers written without +', undefined)
      .option('--tenant <slug>', 'tenant (default: the only one)')
      .option('--start-now', 'start it right away', false),
  ).action(
    async (
      o: SettingsFlags & {
        name: string;
        file: string;
        template?: string;
        body?: string;
        description?: string;
        countryCode?: string;
        tenant?: string;
        startNow: boolean;
      },
    ) => {
      let content: string;
      try {
        content = fs.readFileSync(o.file, 'utf8');
      } catch (error) {
        throw new CliError(
          `cannot read ${o.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      const options: CampaignOptions = {
        name: o.name,
        ...toOptions(o),
        ...(o.template ? { templateKey: o.template } : {}),
        ...(o.body !== undefined ? { body: o.body } : {}),
        ...(o.description ? { description: o.description } : {}),
      };
      const database = await ctx().database();
      try {
        const created = await createCampaign(database, {
          tenantSlug: o.tenant,
          options,
          file: { name: path.basename(o.file), content },
          ...(o.countryCode ? { defaultCountryCode: o.countryCode } : {}),
          createdBy: 'cli',
        });
        console.log(
          `campaign ${o.name} created: ${created.campaignId}\n  ${created.imported} targets imported (${created.optedOut} opted out, will be skipped)\n  trace ${created.traceId}`,
        );
        if (o.startNow) await start(ctx, database.db, created.tenant, created.campaignId);
        else console.log(`  start it with: npx causeway campaign start ${created.campaignId}`);
      } finally {
        await database.close();
      }
    },
  );

  campaign
    .command('start')
    .description('start sending (running it again is harmless)')
    .argument('<campaign>', 'id or name')
    .option('--tenant <slug>', 'tenant')
    .action(async (ref: string, o: { tenant?: string }) => {
      const database = await ctx().database();
      try {
        const tenant = await tenantBySlug(database.db, o.tenant);
        await start(ctx, database.db, tenant, ref);
      } finally {
        await database.close();
      }
    });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    campaign
      .command(action)
      .description(
        {
          pause: 'stop sending (within a second) until resumed',
          resume: 'continue a paused campaign',
          cancel: 'stop for good: what has not gone out is skipped',
        }[action],
      )
      .argument('<campaign>', 'id or name')
      .option('--tenant <slug>', 'tenant')
      .option('--reason <text>', 'recorded with the event')
      .action(async (ref: string, o: { tenant?: string; reason?: string }) => control(ctx, ref, action, o));
  }

  campaign
    .command('status')
    .description('counters and state of a campaign; --watch shows a live progress bar until it ends')
    .argument('<campaign>', 'id or name')
    .option('--tenant <slug>', 'tenant')
    .option('--watch', 'follow it live', false)
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, o: { tenant?: string; watch: boolean; json: boolean }) => {
      const database = await ctx().database();
      const temporal = loadWhileQuerying(ctx);
      try {
        const tenant = await tenantBySlug(database.db, o.tenant);
        const load = async () => requireCampaign(database.db, tenant.id, ref);
        let c = await load();
        const progress = await campaignProgress((await temporal).client, c.id).catch(() => null);
        if (o.json)
          return console.log(
            JSON.stringify({ campaign: c, states: await targetStateCounts(database.db, c.id), progress }, null, 2),
          );
        console.log(describe(c, await targetStateCounts(database.db, c.id), progress));
        console.log(`  Web UI      ${ctx().webUiLink(campaignWorkflowId(c.id))}`);
        if (!o.watch) return;
        const done = () => c.status === 'completed' || c.status === 'cancelled';
        const settled = async () => {
          const states = await targetStateCounts(database.db, c.id);
          return c.totalTargets - (states.pending ?? 0) - (states.scheduled ?? 0) - (states.sending ?? 0);
        };
        const bar = new SingleBar(
          {
            format:
              '  {bar} {percentage}% | {value}/{total} settled | {contacted} contacted · {successful} ok · {failed} failed | {status}',
            hideCursor: true,
          },
          Presets.shades_classic,
        );
        const payload = () => ({
          contacted: c.contactedTargets,
          successful: c.successfulContacts,
          failed: c.failedTargets,
          status: c.status,
        });
        bar.start(c.totalTargets, await settled(), payload());
        while (!done()) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          c = await load();
          bar.update(await settled(), payload());
        }
        bar.stop();
        console.log(describe(c, await targetStateCounts(database.db, c.id), null));
      } finally {
        await Promise.all([database.close(), closeLoaded(temporal)]);
      }
    });

  campaign
    .command('list')
    .description('campaigns, newest first')
    .option('--tenant <slug>', 'tenant')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      const database = await ctx().database();
      try {
        const tenant = await tenantBySlug(database.db, o.tenant);
        const rows = await listCampaigns(database.db, tenant.id);
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log('no campaigns yet (npx causeway campaign create --help)');
        console.table(
          rows.map((c) => ({
            name: c.name,
            id: c.id,
            kind: c.kind,
            status: c.status,
            targets: c.totalTargets,
            contacted: c.contactedTargets,
            successful: c.successfulContacts,
            failed: c.failedTargets,
            created: c.createdAt.toISOString(),
          })),
        );
      } finally {
        await database.close();
      }
    });

  const outage = program
    .command('outage')
    .description('outage broadcasts: notify the affected regions, then the resolution');
  settingsOptions(
    outage
      .command('start')
      .description('record an outage and notify every contact of its regions once (starts at once)')
      .requiredOption('--name <name>', 'short name (resolve uses it)')
      .requiredOption('--regions <list>', "comma-separated regions, as in the contacts' region column")
      .requiredOption('--message <text>', 'the notice')
      .option('--tenant <slug>', 'tenant'),
  ).action(async (o: SettingsFlags & { name: string; regions: string; message: string; tenant?: string }) => {
    const options = toOptions(o);
    const database = await ctx().database();
    const temporal = loadWhileQuerying(ctx);
    try {
      const outage = await declareOutage(services(ctx, database.db, await temporal), {
        tenantSlug: o.tenant,
        name: o.name,
        regions: o.regions.split(','),
        message: o.message,
        options,
        createdBy: 'cli',
      });
      console.log(
        `outage ${o.name} recorded (${outage.failureId}): ${outage.imported} contacts to notify (${outage.optedOut} opted out)`,
      );
      printStarted(ctx, outage.start);
    } finally {
      await Promise.all([database.close(), closeLoaded(temporal)]);
    }
  });
  settingsOptions(
    outage
      .command('resolve')
      .description('send the resolution message to every contact that was notified of the outage')
      .argument('<outage>', 'name or id')
      .requiredOption('--message <text>', 'the resolution message')
      .option('--tenant <slug>', 'tenant'),
  ).action(async (ref: string, o: SettingsFlags & { message: string; tenant?: string }) => {
    const options = toOptions(o);
    const database = await ctx().database();
    const temporal = loadWhileQuerying(ctx);
    try {
      const resolved = await endOutage(services(ctx, database.db, await temporal), {
        tenantSlug: o.tenant,
        failureRef: ref,
        message: o.message,
        options,
        createdBy: 'cli',
      });
      console.log(`outage resolved: ${resolved.notified} notified contacts get the resolution message`);
      if (resolved.noticesCancelled) console.log('  the notice campaign was still running: cancelled');
      printStarted(ctx, resolved.start);
    } finally {
      await Promise.all([database.close(), closeLoaded(temporal)]);
    }
  });
}

async function start(ctx: () => CliContext, db: Db, tenant: { id: string; slug: string }, campaignRef: string) {
  const temporal = await ctx().temporal();
  try {
    printStarted(ctx, await requestCampaignStart(services(ctx, db, temporal), tenant, campaignRef));
  } finally {
    await temporal.close();
  }
}

function printStarted(
  ctx: () => CliContext,
  result: { started: boolean; workflowId: string; campaign: { name: string } },
) {
  const name = result.campaign.name;
  console.log(result.started ? `campaign ${name} started` : `campaign ${name} was already started (nothing changed)`);
  console.log(`  Web UI      ${ctx().webUiLink(result.workflowId)}`);
}

async function control(
  ctx: () => CliContext,
  ref: string,
  action: ControlAction,
  o: { tenant?: string; reason?: string },
) {
  const database = await ctx().database();
  const temporal = loadWhileQuerying(ctx);
  try {
    const tenant = await tenantBySlug(database.db, o.tenant);
    const { campaign, workflowId } = await requestCampaignControl(
      services(ctx, database.db, await temporal),
      tenant,
      ref,
      action,
      { actor: 'cli', ...(o.reason ? { reason: o.reason } : {}) },
    );
    console.log(`campaign ${campaign.name}: ${action} requested`);
    console.log(`  Web UI      ${ctx().webUiLink(workflowId)}`);
  } finally {
    await Promise.all([database.close(), closeLoaded(temporal)]);
  }
}
