import type { Command } from 'commander';
import {
  listAllCannedResponses,
  listCannedResponses,
  removeCannedResponse,
  upsertCannedResponse,
} from '../../db/knowledge/canned';
import { CANNED_VARIABLES, unknownCannedVariables } from '../../domain/desk-tools';
import { type CliContext, CliError, printJson, tenantOf, withDatabase, withTenant } from '../context';

/** Issue 20 E: `causeway canned add|list|remove`, the agents' canned responses per tenant (and department). */
export function registerCannedCommands(program: Command, ctx: () => CliContext) {
  const canned = program
    .command('canned')
    .description('canned responses agents insert into replies from the console (variables: {{first_name}}…)');

  canned
    .command('add')
    .description(
      `add (or replace, same title and department) a canned response; variables: ${CANNED_VARIABLES.map((v) => `{{${v}}}`).join(' ')}`,
    )
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--department <name>', 'only for this department (default: every department)')
    .requiredOption('--title <title>', 'short name shown in the picker')
    .requiredOption('--body <text>', 'the text, e.g. "Olá {{first_name}}, aqui é {{agent_name}}."')
    .action(async (o: { tenant?: string; department?: string; title: string; body: string }) => {
      const title = o.title.trim();
      const body = o.body.trim();
      if (!title || title.length > 80) throw new CliError('--title must be 1–80 characters');
      if (!body || body.length > 1600) throw new CliError('--body must be 1–1600 characters');
      const unknown = unknownCannedVariables(body);
      if (unknown.length)
        throw new CliError(
          `--body names unknown variables: ${unknown.join(', ')} (known: ${CANNED_VARIABLES.join(', ')})`,
        );
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const row = await upsertCannedResponse(db, {
          tenantId: tenant.id,
          department: o.department?.trim() || null,
          title,
          body,
          createdBy: 'cli',
        });
        console.log(
          `tenant ${tenant.slug}: canned response "${row.title}" (${row.department ?? 'every department'}) saved, id ${row.id}`,
        );
      });
    });

  canned
    .command('list')
    .description('the canned responses per tenant and department')
    .option('--tenant <slug>', 'only this tenant')
    .option('--department <name>', "only this department's and the general ones")
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; department?: string; json: boolean }) => {
      await withDatabase(ctx(), async (db) => {
        const rows = o.tenant
          ? (
              await listCannedResponses(
                db,
                (await tenantOf(db, o.tenant)).id,
                o.department === undefined ? undefined : o.department,
              )
            ).map((r) => ({ tenant: o.tenant!, ...r }))
          : await listAllCannedResponses(db);
        if (o.json) return printJson(rows);
        if (rows.length === 0) return console.log('no canned responses (causeway canned add --title … --body …)');
        console.table(
          rows.map((r) => ({
            tenant: r.tenant,
            id: r.id,
            department: r.department ?? '(all)',
            title: r.title,
            body: r.body.length > 60 ? `${r.body.slice(0, 57)}…` : r.body,
          })),
        );
      });
    });

  canned
    .command('remove')
    .description('remove a canned response by id, or by title (and department)')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--id <uuid>', 'the response id (canned list)')
    .option('--title <title>', 'the response title')
    .option('--department <name>', 'with --title: the department it belongs to (default: the general one)')
    .action(async (o: { tenant?: string; id?: string; title?: string; department?: string }) => {
      if (!o.id === !o.title) throw new CliError('give --id or --title');
      if (o.id && !/^[0-9a-f-]{36}$/i.test(o.id)) throw new CliError('--id must be a UUID');
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const n = await removeCannedResponse(
          db,
          tenant.id,
          o.id ? { id: o.id } : { title: o.title!.trim(), department: o.department?.trim() || null },
        );
        if (n === 0) throw new CliError('no such canned response');
        console.log(`tenant ${tenant.slug}: canned response removed`);
      });
    });
}
