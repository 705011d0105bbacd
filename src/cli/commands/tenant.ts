import { IDENTITY_CHECKS, type IdentityCheck } from '../../contract/statuses';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { runMigrations } from '../../db/core/migrate';
import { listTenants, type TenantDetails } from '../../db/tenants/tenants';
import { addTenant, tenantDetails, updateTenant } from '../../services/admin';
import { parsePhoneAddress } from '../../domain/address';
import { ensureReconcileSchedule, reconcileScheduleSettings } from '../../temporal/reconcile-schedule';
import { recordCliAudit } from '../audit';
import { CliError, type CliContext } from '../context';

const collect = (value: string, previous: string[]) => [...previous, value];

function parseNumbers(option: string, values: string[]) {
  return values.map((n) => {
    const parsed = parsePhoneAddress(n);
    if (!parsed) throw new CliError(`${option} ${n} is not +E164 or whatsapp:+E164`);
    return parsed;
  });
}

/** `-` reads the token from standard input, so it stays out of the shell history and the process list. */
async function readToken(value: string): Promise<string> {
  if (value !== '-') return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function printTenant(t: TenantDetails) {
  console.log(`tenant ${t.slug} (${t.name}), locale ${t.locale}, handoffs default to ${t.defaultDepartment}`);
  console.log(`  WhatsApp typing indicator: ${t.typingIndicator ? 'on' : 'off'}`);
  if (t.messagingServiceSid) console.log(`  sends through Messaging Service ${t.messagingServiceSid}`);
  console.log(`  identity check before debt details: ${t.identityCheck}`);
  const tenantWide = t.hybrid.find((h) => h.department === null);
  const departments = t.hybrid.filter((h) => h.department !== null);
  if (tenantWide || departments.length > 0)
    console.log(
      `  hybrid mode (AI drafts, agents send): ${tenantWide?.enabled ? 'on' : 'off'}${departments
        .map((d) => `, ${d.department} ${d.enabled ? 'on' : 'off'}`)
        .join('')}`,
    );
  const limits = Object.entries(t.limits).filter(([, v]) => v !== null);
  if (limits.length > 0) console.log(`  own limits: ${limits.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const a of t.accounts) {
    console.log(`  Twilio account ${a.accountSid} (${a.mode})`);
    if (a.numbers.length === 0) console.log('    no numbers');
    for (const n of a.numbers)
      console.log(`    ${n.channel === 'whatsapp' ? `whatsapp:${n.phone}` : n.phone} (${n.channel})`);
  }
}

/** Best effort: the worker creates every tenant's Schedule at its next start anyway. */
async function scheduleReconciliation(context: CliContext, slug: string) {
  let temporal;
  try {
    temporal = await context.temporal();
    const client = temporal.client;
    await client.withDeadline(Date.now() + 5000, () =>
      ensureReconcileSchedule(client, slug, reconcileScheduleSettings(context.env)),
    );
    console.log(
      `  reconciliation with Twilio's log scheduled every ${Math.round(context.env.RECONCILE_INTERVAL / 60_000)} min`,
    );
  } catch {
    console.log('  Temporal not reachable: the reconciliation schedule is created when the worker starts');
  } finally {
    await temporal?.close().catch(() => undefined);
  }
}

export function registerTenantCommands(program: Command, ctx: () => CliContext) {
  const tenant = program.command('tenant').description('tenants and the Twilio numbers they own');

  tenant
    .command('add')
    .description('add a tenant with its Twilio account and numbers')
    .requiredOption('--slug <slug>', 'short id used in workflow ids (a-z, 0-9, -)')
    .option('--name <name>', 'display name')
    .option('--account-sid <sid>', 'Twilio Account SID (AC…); generated with --simulated')
    .option('--auth-token <token>', 'Twilio auth token (checks webhook signatures); generated with --simulated')
    .option('--number <address>', 'owned number, +E164 for SMS or whatsapp:+E164 (repeatable)', collect, [] as string[])
    .option('--simulated', 'never call Twilio: outbound messages are recorded as simulated', false)
    .action(
      async (o: {
        slug: string;
        name?: string;
        accountSid?: string;
        authToken?: string;
        number: string[];
        simulated: boolean;
      }) => {
        if (!/^[a-z0-9][a-z0-9-]{1,39}$/.test(o.slug))
          throw new CliError('--slug must be 2–40 characters of a-z, 0-9 and -');
        const numbers = parseNumbers('--number', o.number);
        if (numbers.length === 0) throw new CliError('give at least one --number');
        const accountSid = o.accountSid ?? (o.simulated ? `AC${randomBytes(16).toString('hex')}` : undefined);
        const authToken = o.authToken ?? (o.simulated ? randomBytes(16).toString('hex') : undefined);
        if (!accountSid || !/^AC[0-9a-fA-F]{32}$/.test(accountSid))
          throw new CliError('--account-sid must be AC followed by 32 hex digits');
        if (!authToken) throw new CliError('--auth-token is required for a live tenant');
        const database = await ctx().database();
        try {
          await runMigrations(database.url, { embedded: database.embedded });
          await addTenant(database, {
            slug: o.slug,
            name: o.name ?? o.slug,
            accountSid,
            authToken,
            mode: o.simulated ? 'simulated' : 'live',
            numbers,
          });
          console.log(`tenant ${o.slug} added with ${numbers.length} number(s)${o.simulated ? ' (simulated)' : ''}`);
          if (!o.simulated) await scheduleReconciliation(ctx(), o.slug);
        } finally {
          await database.close();
        }
      },
    );

  tenant
    .command('list')
    .description('list tenants, their Twilio accounts and numbers')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { json: boolean }) => {
      const database = await ctx().database();
      try {
        const rows = await listTenants(database.db);
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0)
          return console.log('no tenants yet (npm start creates a demo tenant; or: causeway tenant add)');
        console.table(
          rows.map((r) => ({
            tenant: r.slug,
            account: r.accountSid,
            mode: r.mode,
            channel: r.channel,
            number: r.phone,
          })),
        );
      } finally {
        await database.close();
      }
    });

  tenant
    .command('show')
    .description("a tenant's Twilio accounts and numbers (never the auth token)")
    .argument('<slug>', 'the tenant')
    .option('--json', 'machine-readable output', false)
    .action(async (slug: string, o: { json: boolean }) => {
      const database = await ctx().database();
      try {
        const details = await tenantDetails(database, slug);
        if (o.json) return console.log(JSON.stringify(details, null, 2));
        printTenant(details);
      } finally {
        await database.close();
      }
    });

  tenant
    .command('update')
    .description(
      'rename a tenant, add or remove its numbers, record its rotated Twilio auth token, or switch hybrid mode',
    )
    .argument('<slug>', 'the tenant')
    .option('--name <name>', 'new display name')
    .option('--add-number <address>', 'number to add, +E164 or whatsapp:+E164 (repeatable)', collect, [] as string[])
    .option('--remove-number <address>', 'number to remove (repeatable)', collect, [] as string[])
    .option(
      '--rotate-auth-token <token>',
      "the account's new auth token after rotating it in Twilio's console; - reads it from stdin",
    )
    .option('--account-sid <sid>', 'the account to change, when the tenant has several')
    .option('--hybrid <on|off>', 'hybrid mode: the AI drafts replies and an agent sends, edits or rejects them')
    .option('--department <name>', 'with --hybrid: only this department (overrides the tenant-wide setting)')
    .option('--messaging-service <MG…|none>', 'send through this Twilio Messaging Service instead of From (none: stop)')
    .option('--typing-indicator <on|off>', 'show WhatsApp "typing…" while a reply is prepared (default on)')
    .option('--default-department <name>', 'where handoffs go when the AI names no department (default support)')
    .option('--ai-max-turns-per-hour <n>', 'AI calls one conversation may make in an hour (default: deployment)')
    .option('--ai-max-tokens-per-day <n>', "the tenant's AI tokens in 24 h (default: deployment)")
    .option('--promise-max-days <n>', 'how far ahead a promise to pay may fall, in days (default: deployment)')
    .option('--retention-days <n>', 'keep message bodies and AI texts this many days (at least the deployment default)')
    .option(
      '--identity-check <method>',
      `what a contact must confirm before the AI or a template discloses a debt: ${IDENTITY_CHECKS.join('|')} (default cpf-last-digits)`,
    )
    .action(
      async (
        slug: string,
        o: {
          name?: string;
          defaultDepartment?: string;
          identityCheck?: string;
          addNumber: string[];
          removeNumber: string[];
          rotateAuthToken?: string;
          accountSid?: string;
          hybrid?: string;
          department?: string;
          aiMaxTurnsPerHour?: string;
          aiMaxTokensPerDay?: string;
          promiseMaxDays?: string;
          retentionDays?: string;
          typingIndicator?: string;
          messagingService?: string;
        },
      ) => {
        // `default` clears the tenant's own value (back to the deployment's).
        const limit = (flag: string, value: string | undefined, max: number) => {
          if (value === undefined) return undefined;
          if (value === 'default') return null;
          const n = Number(value);
          if (!Number.isInteger(n) || n < 1 || n > max)
            throw new CliError(`${flag}: a whole number 1–${max}, or default`);
          return n;
        };
        const limits = Object.fromEntries(
          Object.entries({
            aiMaxTurnsPerHour: limit('--ai-max-turns-per-hour', o.aiMaxTurnsPerHour, 10_000),
            aiMaxTokensPerDay: limit('--ai-max-tokens-per-day', o.aiMaxTokensPerDay, 1e12),
            promiseMaxDaysAhead: limit('--promise-max-days', o.promiseMaxDays, 3650),
            retentionDays: limit('--retention-days', o.retentionDays, 36_500),
          }).filter(([, v]) => v !== undefined),
        );
        if (
          o.messagingService !== undefined &&
          o.messagingService !== 'none' &&
          !/^MG[0-9a-f]{32}$/.test(o.messagingService)
        )
          throw new CliError('--messaging-service takes a Messaging Service SID (MG + 32 hex digits) or none');
        const messagingServiceSid =
          o.messagingService === undefined ? undefined : o.messagingService === 'none' ? null : o.messagingService;
        if (o.typingIndicator !== undefined && o.typingIndicator !== 'on' && o.typingIndicator !== 'off')
          throw new CliError('--typing-indicator takes on or off');
        const typingIndicator = o.typingIndicator === undefined ? undefined : o.typingIndicator === 'on';
        if (o.hybrid !== undefined && o.hybrid !== 'on' && o.hybrid !== 'off')
          throw new CliError('--hybrid takes on or off');
        if (o.department !== undefined && o.hybrid === undefined) throw new CliError('--department goes with --hybrid');
        if (o.department !== undefined && !/^[\w-]{1,40}$/.test(o.department))
          throw new CliError('--department must be 1–40 letters, digits, _ or -');
        const hybrid =
          o.hybrid === undefined ? undefined : { enabled: o.hybrid === 'on', department: o.department ?? null };
        const addNumbers = parseNumbers('--add-number', o.addNumber);
        const removeNumbers = parseNumbers('--remove-number', o.removeNumber);
        const authToken = o.rotateAuthToken === undefined ? undefined : await readToken(o.rotateAuthToken);
        if (authToken !== undefined && !/^[0-9a-zA-Z]{16,128}$/.test(authToken))
          throw new CliError('the auth token must be 16–128 letters and digits (Twilio tokens are 32 hex digits)');
        if (o.defaultDepartment !== undefined && !/^[a-z][a-z0-9_-]{0,39}$/.test(o.defaultDepartment))
          throw new CliError('--default-department: lowercase letters, digits, - and _, at most 40');
        if (o.identityCheck !== undefined && !(IDENTITY_CHECKS as readonly string[]).includes(o.identityCheck))
          throw new CliError(`--identity-check takes ${IDENTITY_CHECKS.join(', ')}`);
        if (
          o.name === undefined &&
          o.identityCheck === undefined &&
          o.defaultDepartment === undefined &&
          addNumbers.length === 0 &&
          removeNumbers.length === 0 &&
          authToken === undefined &&
          hybrid === undefined &&
          Object.keys(limits).length === 0 &&
          typingIndicator === undefined &&
          messagingServiceSid === undefined
        ) {
          throw new CliError(
            'nothing to change: give --name, --default-department, --identity-check, --add-number, --remove-number, --rotate-auth-token, --hybrid, --typing-indicator, --messaging-service or a limit',
          );
        }
        const database = await ctx().database();
        try {
          const details = await updateTenant(database, slug, {
            name: o.name,
            defaultDepartment: o.defaultDepartment,
            identityCheck: o.identityCheck as IdentityCheck | undefined,
            addNumbers,
            removeNumbers,
            authToken,
            accountSid: o.accountSid,
            hybrid,
            limits,
            typingIndicator,
            messagingServiceSid,
          });
          await recordCliAudit(database.db, {
            tenantId: details.id,
            action: 'tenant.update',
            targetType: 'tenants',
            targetId: details.id,
            details: {
              changed: [
                ...(o.name !== undefined ? ['name'] : []),
                ...(o.defaultDepartment !== undefined ? ['defaultDepartment'] : []),
                ...(addNumbers.length || removeNumbers.length ? ['numbers'] : []),
                ...(authToken !== undefined ? ['authToken'] : []),
                ...(hybrid ? ['hybrid'] : []),
                ...Object.keys(limits),
                ...(typingIndicator !== undefined ? ['typingIndicator'] : []),
                ...(messagingServiceSid !== undefined ? ['messagingService'] : []),
              ],
            },
          });
          printTenant(details);
          if (authToken !== undefined)
            console.log(
              '  auth token rotated: webhooks signed with the new token are accepted now, the old one stops within 10 s',
            );
        } finally {
          await database.close();
        }
      },
    );
}
