import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { listPromptVersions } from '../../db/knowledge/prompts';
import { ServiceError } from '../../services/errors';
import { activatePrompt, addPrompt, findPrompt, promptTenant, rollBackPrompt } from '../../services/prompts';
import type { Database } from '../../db/core/client';
import { diffLines, formatDiff } from '../../domain/line-diff';
import { cliActor, recordCliAudit } from '../audit';
import { CliError, type CliContext } from '../context';

type TenantOpts = { tenant: string; type?: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Opens the database, resolves the tenant and the assistant type (default: the tenant's). `causeway prompt` exits 3
 * when the tenant or version it names does not exist (scripts tell "absent" from "refused"); any other refusal
 * goes to the CLI's one mapping (src/cli/main.ts, exit 1).
 */
async function withTenant<T>(
  ctx: () => CliContext,
  o: TenantOpts,
  run: (db: Database, tenant: { id: string; slug: string }, assistantType: string) => Promise<T>,
): Promise<T> {
  const database = await ctx().database();
  try {
    const tenant = await promptTenant(database, o.tenant);
    return await run(database.db, tenant, o.type ?? tenant.assistantType);
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'not_found') throw new CliError(error.message, 3);
    throw error;
  } finally {
    await database.close();
  }
}

const actor = () => cliActor();

export function registerPromptCommands(program: Command, ctx: () => CliContext) {
  const prompt = program
    .command('prompt')
    .description("the AI's system prompts: versions per tenant and assistant type (add, diff, activate, roll back)");
  const tenantOptions = (c: Command) =>
    c
      .requiredOption('--tenant <slug>', 'tenant')
      .option('--type <assistantType>', "assistant type (support, sales, collections…; default: the tenant's)");

  tenantOptions(prompt.command('list').description('prompt versions; * marks the one the AI uses now'))
    .option('--json', 'machine-readable output', false)
    .action(async (o: TenantOpts & { json: boolean }) =>
      withTenant(ctx, { tenant: o.tenant }, async (db, tenant) => {
        const rows = (await listPromptVersions(db, tenant.id)).filter((r) => !o.type || r.assistantType === o.type);
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        console.table(
          rows.map((r) => ({
            type: r.assistantType,
            version: r.version,
            scope: r.scope,
            active: r.inEffect ? '*' : r.active ? '(shadowed)' : '',
            created: r.createdAt.toISOString(),
            by: r.createdBy,
            activated: r.activatedAt?.toISOString() ?? '',
          })),
        );
      }),
    );

  tenantOptions(prompt.command('show').description('print a version (default: the one in effect)'))
    .argument('[version]', 'version to show')
    .action(async (version: string | undefined, o: TenantOpts) =>
      withTenant(ctx, o, async (db, tenant, type) => {
        const chosen =
          version ??
          (await listPromptVersions(db, tenant.id)).find((r) => r.assistantType === type && r.inEffect)?.version;
        if (!chosen) throw new CliError(`no ${type} prompt is in effect`, 3);
        const row = await findPrompt({ db }, tenant.id, type, chosen);
        console.error(`# ${type} ${row.version} (${row.scope}${row.active ? ', active' : ''})`);
        console.log(row.content);
      }),
    );

  tenantOptions(prompt.command('add').description('add a version from a file (or stdin); inactive unless --activate'))
    .requiredOption('--version <version>', 'its name, e.g. 1.1.0')
    .option('--file <path>', 'the prompt text; - or absent reads stdin')
    .option('--activate', 'activate it at once', false)
    .action(async (o: TenantOpts & { version: string; file?: string; activate: boolean }) => {
      const content = !o.file || o.file === '-' ? await readStdin() : await fs.readFile(o.file, 'utf8');
      await withTenant(ctx, o, async (db, tenant, type) => {
        const added = await addPrompt(
          { db },
          {
            tenantId: tenant.id,
            assistantType: type,
            version: o.version,
            content,
            actor: actor(),
            activate: o.activate,
          },
        );
        await recordCliAudit(db, {
          tenantId: tenant.id,
          action: 'prompt.add',
          targetType: 'prompts',
          targetId: `${type}/${added.version}`,
          details: { activated: added.active },
        });
        console.log(
          `tenant ${tenant.slug}: ${type} prompt ${added.version} added${added.active ? ' and activated' : ' (inactive: causeway prompt activate)'}`,
        );
      });
    });

  tenantOptions(prompt.command('diff').description('line diff between two versions'))
    .argument('<from>', 'old version')
    .argument('<to>', 'new version')
    .action(async (from: string, to: string, o: TenantOpts) =>
      withTenant(ctx, o, async (db, tenant, type) => {
        const a = await findPrompt({ db }, tenant.id, type, from);
        const b = await findPrompt({ db }, tenant.id, type, to);
        console.log(`--- ${type} ${a.version} (${a.scope})\n+++ ${type} ${b.version} (${b.scope})`);
        console.log(formatDiff(diffLines(a.content, b.content)));
      }),
    );

  tenantOptions(prompt.command('activate').description('make a version the active one (atomically)'))
    .argument('<version>', 'version to activate')
    .action(async (version: string, o: TenantOpts) =>
      withTenant(ctx, o, async (db, tenant, type) => {
        const result = await activatePrompt(
          { db },
          {
            tenantId: tenant.id,
            assistantType: type,
            version,
            actor: actor(),
          },
        );
        await recordCliAudit(db, {
          tenantId: tenant.id,
          action: 'prompt.activate',
          targetType: 'prompts',
          targetId: `${type}/${result.active}`,
        });
        console.log(
          `tenant ${tenant.slug}: ${type} prompt ${result.active} is active (was ${result.previous ?? 'the built-in one'})`,
        );
      }),
    );

  tenantOptions(prompt.command('rollback').description('return to the version active before the current one')).action(
    async (o: TenantOpts) =>
      withTenant(ctx, o, async (db, tenant, type) => {
        const result = await rollBackPrompt({ db }, { tenantId: tenant.id, assistantType: type, actor: actor() });
        await recordCliAudit(db, {
          tenantId: tenant.id,
          action: 'prompt.rollback',
          targetType: 'prompts',
          targetId: `${type}/${result.to ?? 'built-in'}`,
        });
        console.log(
          `tenant ${tenant.slug}: ${type} prompt rolled back from ${result.from} to ${result.to ?? 'the built-in one'}`,
        );
      }),
  );
}
