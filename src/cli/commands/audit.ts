import type { Command } from 'commander';
import { listAudit } from '../../db/operators/audit';
import { findTenantsBySlug } from '../../db/tenants/lookup';
import { parseDuration } from '../../domain/duration';
import { CliError, type CliContext } from '../context';

/** `causeway audit list`: what operators and admins did (issue 18 G), newest first. */
export function registerAuditCommands(program: Command, ctx: () => CliContext) {
  const audit = program.command('audit').description('the audit log: every operator and admin action');
  audit
    .command('list')
    .description('audit records of a tenant, newest first (no phone numbers or texts are ever in them)')
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--since <duration>', 'only the last 24h, 7d, 90m…', '24h')
    .option('--actor <id>', 'one actor: a user id, or cli:<os user>')
    .option('--limit <n>', 'at most this many records (1–10000)', '200')
    .option('--json', 'print JSON', false)
    .action(async (o: { tenant: string; since: string; actor?: string; limit: string; json: boolean }) => {
      let sinceMs: number;
      try {
        sinceMs = parseDuration(o.since);
      } catch (error) {
        throw new CliError(`--since: ${(error as Error).message}`);
      }
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError('--limit must be 1–10000');
      if (o.actor !== undefined && !/^([0-9a-f-]{36}|cli:[\w.@-]{1,64})$/i.test(o.actor))
        throw new CliError('--actor is a user id (UUID) or cli:<os user>');
      const database = await ctx().database();
      try {
        const [tenant] = await findTenantsBySlug(database.db, o.tenant);
        if (!tenant) throw new CliError(`no tenant ${o.tenant} (causeway tenant list)`);
        const rows = await listAudit(database.db, {
          tenantId: tenant.id,
          since: new Date(Date.now() - sinceMs),
          actor: o.actor,
          limit,
        });
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log(`no audit records for ${o.tenant} in the last ${o.since}`);
        console.table(
          rows.map((r) => ({
            at: r.occurredAt.toISOString(),
            actor: r.actorUserId ?? r.actorLabel,
            role: r.role ?? '',
            via: r.via,
            action: r.action,
            target: r.targetId ? `${r.targetType}:${r.targetId}` : '',
            outcome: r.outcome,
            request: r.requestId ?? '',
          })),
        );
      } finally {
        await database.close();
      }
    });
}
