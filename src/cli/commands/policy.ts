import fs from 'node:fs';
import type { Command } from 'commander';
import {
  findContactIdByPhone,
  findSendDecision,
  whyView,
  getTenantPolicy,
  importDncEntries,
  listDncLists,
  upsertTenantPolicy,
} from '../../db/outbound/policy';
import { ActiveHoursError, formatActiveHours, parseActiveHours } from '../../domain/active-hours';
import { parseAddress } from '../../domain/address';
import { parseDncCsv, scopeOfList } from '../../domain/policy/dnc-import';
import { POLICY_PURPOSES, type PolicyPurpose } from '../../domain/policy/rules';
import type { PolicyCheck } from '../../domain/policy/gate';
import { evaluatePolicy, tenantNarrowing } from '../../services/outbound/policy-gate';
import { type CliContext, CliError, printJson, tenantOf, withDatabase, withTenant } from '../context';

/** No contact yet: nothing sent to it, not opted out. */
const NO_CONTACT = '00000000-0000-0000-0000-000000000000';

const formatCheck = (c: PolicyCheck | Record<string, unknown>) => {
  const check = c as PolicyCheck;
  return `  ${check.result.padEnd(6)} ${check.name}${check.detail ? ` — ${check.detail}` : ''}\n         ${JSON.stringify(check.input)}`;
};

function parseHoursOption(name: string, value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value === 'law') return null;
  try {
    return formatActiveHours(parseActiveHours(value));
  } catch (error) {
    if (error instanceof ActiveHoursError) throw new CliError(`${name}: ${error.message}`);
    throw error;
  }
}

function positive(name: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new CliError(`${name} must be a whole number from 1 to 1000`);
  return n;
}

export function registerPolicyCommands(program: Command, ctx: () => CliContext) {
  const policy = program
    .command('policy')
    .description('the outbound policy: contact hours, do-not-contact lists, caps');

  policy
    .command('check')
    .description('what the gate would decide for a message now (or --at): prints every check, sends nothing')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .requiredOption('--to <address>', 'the recipient: +5511… or whatsapp:+5511…')
    .requiredOption('--purpose <purpose>', `one of ${POLICY_PURPOSES.join(', ')}`)
    .option('--from <address>', "the tenant's sending address (for the WhatsApp window)")
    .option('--at <iso>', 'decide at this instant, e.g. 2026-12-07T23:30-03:00')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; to: string; purpose: string; from?: string; at?: string; json: boolean }) => {
      if (!POLICY_PURPOSES.includes(o.purpose as PolicyPurpose))
        throw new CliError(`--purpose must be one of ${POLICY_PURPOSES.join(', ')}`);
      const address = parseAddress(o.to);
      if (!address) throw new CliError('--to must be an E.164 number (+5511…) or whatsapp:+5511…');
      const at = o.at ? new Date(o.at) : new Date();
      if (Number.isNaN(at.getTime()))
        throw new CliError('--at must be an ISO 8601 instant, e.g. 2026-12-07T23:30-03:00');
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const contactId = (await findContactIdByPhone(db, tenant.id, address.phone)) ?? NO_CONTACT;
        const decision = await evaluatePolicy(
          db,
          {
            tenantId: tenant.id,
            contactId,
            to: o.to,
            from: o.from ?? '',
            purpose: o.purpose as PolicyPurpose,
            // `service` here means an answer in a conversation the customer opened.
            customerOpened: o.purpose === 'service',
            idempotencyKey: 'policy-check',
          },
          at,
          ctx().env.WHATSAPP_WINDOW,
        );
        const out = {
          decision: decision.decision,
          until: decision.until?.toISOString() ?? null,
          reason: decision.reason ?? null,
          at: at.toISOString(),
          rulesVersion: decision.rulesVersion,
          checks: decision.checks,
        };
        if (o.json) return printJson(out);
        console.log(
          `${out.decision.toUpperCase()}${out.until ? ` until ${out.until}` : ''}${out.reason ? ` — ${out.reason}` : ''}`,
        );
        console.log(`at ${out.at} · rules ${out.rulesVersion}`);
        for (const c of out.checks) console.log(formatCheck(c));
      });
    });

  policy
    .command('set')
    .description("narrow the policy for a tenant (hours per purpose, frequency caps); 'law' / 'default' resets")
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--collection-hours <spec>', 'e.g. "mon-fri 09:00-18:00" (intersected with the law\'s window)')
    .option('--marketing-hours <spec>', 'e.g. "mon-fri 10:00-18:00"')
    .option('--utility-hours <spec>', 'e.g. "daily 07:00-22:00" (no statute sets them; unset = any time)')
    .option('--max-per-day <n>', 'business-initiated collection/marketing messages per contact per day (default 5)')
    .option('--max-per-week <n>', 'per contact per ISO week (default 15)')
    .action(
      async (o: {
        tenant?: string;
        collectionHours?: string;
        marketingHours?: string;
        utilityHours?: string;
        maxPerDay?: string;
        maxPerWeek?: string;
      }) => {
        const set = Object.fromEntries(
          Object.entries({
            collectionHours: parseHoursOption('--collection-hours', o.collectionHours),
            marketingHours: parseHoursOption('--marketing-hours', o.marketingHours),
            utilityHours: parseHoursOption('--utility-hours', o.utilityHours),
            maxPerDay: positive('--max-per-day', o.maxPerDay),
            maxPerWeek: positive('--max-per-week', o.maxPerWeek),
          }).filter(([, v]) => v !== undefined),
        );
        if (Object.keys(set).length === 0) throw new CliError('nothing to set (see causeway policy set --help)');
        await withTenant(ctx(), o.tenant, async (db, tenant) => {
          await upsertTenantPolicy(db, tenant.id, set);
          console.log(`tenant ${tenant.slug}: policy updated`);
        });
      },
    );

  policy
    .command('show')
    .description("a tenant's narrowing of the policy")
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const row = await getTenantPolicy(db, tenant.id);
        const n = tenantNarrowing(row);
        const out = {
          tenant: tenant.slug,
          collectionHours: row?.collectionHours ?? 'law',
          marketingHours: row?.marketingHours ?? 'law',
          utilityHours: row?.utilityHours ?? 'any time',
          maxPerDay: n.maxPerDay,
          maxPerWeek: n.maxPerWeek,
        };
        if (o.json) return printJson(out);
        for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(16)} ${v}`);
      });
    });

  const dnc = program.command('dnc').description('do-not-contact lists (Procon-SP, Não Me Perturbe, your own)');
  dnc
    .command('import')
    .description('import a CSV of numbers into a list (procon-sp, nao-me-perturbe, or a name of your own)')
    .option('--tenant <slug>', 'the tenant the list is for')
    .option('--all', 'the list applies to every tenant', false)
    .requiredOption('--list <name>', 'procon-sp, nao-me-perturbe, or your list name (a-z, 0-9, -)')
    .option('--registered-at-column <name>', 'the column with the registration date (Procon-SP: blocks from day 30)')
    .argument('<file>', 'CSV file: a phone column (phone/telefone/numero), or one number a line')
    .action(async (file: string, o: { tenant?: string; all: boolean; list: string; registeredAtColumn?: string }) => {
      if (!/^[a-z0-9-]{1,64}$/.test(o.list)) throw new CliError('--list must be 1–64 characters of a-z, 0-9 and -');
      if (o.all === (o.tenant !== undefined)) throw new CliError('give exactly one of --tenant <slug> or --all');
      const scope = scopeOfList(o.list);
      if (scope === 'tenant' && o.all)
        throw new CliError(
          `"${o.list}" is a tenant's own list: import it with --tenant (or use procon-sp, nao-me-perturbe)`,
        );
      let content: string;
      try {
        content = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const parsed = parseDncCsv(content, o.registeredAtColumn ? { registeredAtColumn: o.registeredAtColumn } : {});
      if (parsed.errors.length > 0) {
        const shown = parsed.errors.slice(0, 20).map((e) => `  line ${e.line}: ${e.message}`);
        throw new CliError(
          `${parsed.errors.length} bad row(s), nothing imported:\n${shown.join('\n')}${parsed.errors.length > 20 ? '\n  …' : ''}`,
        );
      }
      await withDatabase(ctx(), async (db) => {
        const tenant = o.all ? null : await tenantOf(db, o.tenant);
        const inserted = await importDncEntries(
          db,
          parsed.rows.map((r) => ({ tenantId: tenant?.id ?? null, list: o.list, scope, ...r })),
        );
        console.log(
          `${o.list} (${scope}, ${tenant ? `tenant ${tenant.slug}` : 'all tenants'}): ${inserted} new, ${parsed.rows.length - inserted} already listed`,
        );
      });
    });
  dnc
    .command('list')
    .description('the do-not-contact lists and their sizes')
    .option('--tenant <slug>', "only the lists that apply to this tenant (its own and everyone's)")
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      await withDatabase(ctx(), async (db) => {
        const tenant = o.tenant ? await tenantOf(db, o.tenant) : null;
        const rows = (await listDncLists(db, tenant?.id ?? null)).map((r) => ({
          list: r.list,
          scope: r.scope,
          tenant: r.tenantSlug ?? '(all)',
          entries: r.entries,
          lastImportedAt: new Date(r.lastImportedAt).toISOString(),
        }));
        if (o.json) return printJson(rows);
        if (rows.length === 0) return console.log('no do-not-contact lists (causeway dnc import …)');
        console.table(rows);
      });
    });

  program
    .command('why')
    .description('why a message went out (or did not): its policy decision, checks, versions and delivery')
    .argument('<ref>', 'the message id or its Twilio MessageSid')
    .option('--tenant <slug>', 'only within this tenant')
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, o: { tenant?: string; json: boolean }) => {
      await withDatabase(ctx(), async (db) => {
        const tenant = o.tenant ? await tenantOf(db, o.tenant) : null;
        const found = await findSendDecision(db, ref.trim(), tenant?.id);
        if (!found) throw new CliError(`no outbound message ${ref}`);
        const out = whyView(found);
        if (o.json) return printJson(out);
        console.log(formatWhy(out));
      });
    });
}

export function formatWhy(w: ReturnType<typeof whyView>): string {
  const lines = [
    `message ${w.messageId}${w.providerSid ? ` (${w.providerSid})` : ''} · by ${w.sentBy} · ${w.createdAt}`,
  ];
  lines.push(
    `delivery: ${w.delivery.status}${w.delivery.errorCode ? ` (error ${w.delivery.errorCode})` : ''}${w.delivery.price ? ` · price ${w.delivery.price} ${w.delivery.priceUnit ?? ''}` : ''}`,
  );
  if (w.ai)
    lines.push(
      `written by AI: ${w.ai.provider}/${w.ai.model} · prompt version ${w.ai.promptVersionId ?? '-'} · tokens ${w.ai.promptTokens ?? '?'} in, ${w.ai.completionTokens ?? '?'} out`,
    );
  if (w.agent) lines.push(`written by agent: ${w.agent.name} (${w.agent.id})`);
  if (w.campaignId) lines.push(`campaign: ${w.campaignId}`);
  if (w.promiseId) lines.push(`promise: ${w.promiseId}`);
  if (!w.decision) lines.push('policy: no decision recorded (sent before the outbound policy existed)');
  else {
    const d = w.decision;
    lines.push(
      `policy: ${d.decision.toUpperCase()} · purpose ${d.purpose} (${d.sendPurpose}) · ${d.businessInitiated ? 'business-initiated' : 'answer in a conversation the customer opened'} · decided ${d.decidedAt}${d.holds ? ` after ${d.holds} hold(s)` : ''} · rules ${d.rulesVersion}`,
    );
    for (const c of d.checks) lines.push(formatCheck(c));
  }
  return lines.join('\n');
}
