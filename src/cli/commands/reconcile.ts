import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  reconcileOnDemandWorkflowId,
  searchAttributes,
  workflowType,
  type ReconcileResult,
  type Workflows,
} from '../../contract';
import type { Database } from '../../db/core/client';
import { findTenantsBySlug } from '../../db/tenants/lookup';
import { formatDuration, parseDuration } from '../../domain/duration';
import { CliError, type CliContext } from '../context';

export interface ReconcileRun {
  tenantSlug: string;
  workflowId: string;
  result: ReconcileResult | null;
  error: string | null;
}

/**
 * `causeway reconcile`: one on-demand `reconcileWorkflow` per tenant (all of them without `tenantSlug`), run through
 * Temporal like the scheduled ones and awaited. A tenant whose run fails is reported; the others still run.
 */
export async function runReconcile(
  deps: { db: Database; client: Client; taskQueue: string },
  options: { tenantSlug?: string; sinceMs: number },
): Promise<ReconcileRun[]> {
  const rows = await findTenantsBySlug(deps.db, options.tenantSlug);
  if (rows.length === 0) throw new CliError(options.tenantSlug ? `no tenant ${options.tenantSlug}` : 'no tenants yet');
  const runs: ReconcileRun[] = [];
  for (const { slug } of rows) {
    const workflowId = reconcileOnDemandWorkflowId(slug, randomBytes(6).toString('hex'));
    try {
      const result = await deps.client.workflow.execute<Workflows['reconcileWorkflow']>(
        workflowType.reconcileWorkflow,
        {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ tenantSlug: slug, lookbackMs: options.sinceMs }],
          typedSearchAttributes: [{ key: searchAttributes.TENANT, value: slug }],
          staticSummary: `Reconcile ${slug} with Twilio's message log (on demand)`,
        },
      );
      runs.push({ tenantSlug: slug, workflowId, result, error: null });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      runs.push({ tenantSlug: slug, workflowId, result: null, error: cause ?? (error as Error).message });
    }
  }
  return runs;
}

/** Counts, the window and the workflow id: what an operator needs, never a phone number or a body. */
export function formatReconcileRun(run: ReconcileRun): string {
  if (!run.result)
    return `tenant ${run.tenantSlug}: FAILED (${run.error ?? 'unknown error'})\n  workflow ${run.workflowId}`;
  const r = run.result;
  if (r.accounts === 0) return `tenant ${r.tenantSlug}: no live Twilio account (simulated tenants have no Twilio log)`;
  return [
    `tenant ${r.tenantSlug}: ${r.since} → ${r.until}, ${r.accounts} account(s), ${r.pages} page(s), ${r.listed} message(s) listed${r.truncated ? ' (TRUNCATED at the page limit: run again with a shorter --since)' : ''}`,
    `  inbound   ${r.inboundMissingFed} missing → fed to the conversation · ${r.inboundAlreadyKnown} already known${r.inboundInvalid ? ` · ${r.inboundInvalid} unusable (see the worker log)` : ''}`,
    `  outbound  ${r.outboundSettled} settled with Twilio's status · ${r.outboundStillOpen} still open at Twilio · ${r.outboundNotDue} too recent to settle · ${r.outboundFetched ?? 0} fetched one by one (never sent) · ${r.outboundPriced ?? 0} priced`,
    `  workflow  ${run.workflowId}`,
  ].join('\n');
}

export function registerReconcileCommand(program: Command, ctx: () => CliContext) {
  program
    .command('reconcile')
    .description(
      "compare recent messages with Twilio's own log: answer inbound messages whose webhook never arrived, settle outbound messages whose status callbacks were lost",
    )
    .option('--tenant <slug>', 'only this tenant (default: every tenant)')
    .option('--since <duration>', 'how far back to look, e.g. 30m, 2h, 1d', '2h')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; since: string; json: boolean }) => {
      let sinceMs: number;
      try {
        sinceMs = parseDuration(o.since);
      } catch (error) {
        throw new CliError(`--since: ${(error as Error).message}`);
      }
      if (sinceMs <= 0) throw new CliError('--since must be longer than 0');
      const database = await ctx().database();
      const temporal = await ctx().temporal();
      try {
        if (!o.json) console.log(`reconciling the last ${formatDuration(sinceMs)} with Twilio…`);
        const runs = await runReconcile(
          { db: database.db, client: temporal.client, taskQueue: ctx().env.TEMPORAL_TASK_QUEUE },
          { ...(o.tenant ? { tenantSlug: o.tenant } : {}), sinceMs },
        );
        if (o.json) console.log(JSON.stringify(runs, null, 2));
        else for (const run of runs) console.log(formatReconcileRun(run));
        if (runs.some((r) => !r.result)) throw new CliError('reconciliation failed for some tenant(s)');
      } finally {
        await Promise.all([database.close(), temporal.close()]);
      }
    });
}
