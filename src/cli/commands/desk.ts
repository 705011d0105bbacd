import type { Command } from 'commander';
import { DEPARTMENT_NAME, listDepartments } from '../../db/operators/admin';
import type { Database } from '../../db/core/client';
import { listDeskSettings, resolveDeskPolicy, setDeskSettings } from '../../db/conversations/desk';
import { DeskHoursError, nextDeskOpening, parseDeskSchedule } from '../../domain/desk-hours';
import { formatDuration, parseDuration } from '../../domain/duration';
import { type CliContext, CliError, printJson, withTenant } from '../context';

type Db = Database;

/** A department must be one of the tenant's (the admin console or `tenant update --default-department` add them). */
async function departmentOf(db: Db, tenantId: string, name: string | undefined): Promise<string | null> {
  if (name === undefined) return null;
  if (!DEPARTMENT_NAME.test(name)) throw new CliError('--department must be a-z, 0-9, _ or - (40 at most)');
  const known = (await listDepartments(db, tenantId)).map((d) => d.name);
  if (!known.includes(name))
    throw new CliError(`tenant has no department "${name}" (known: ${known.join(', ') || 'none'})`);
  return name;
}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

function slaMs(flag: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  try {
    const ms = parseDuration(value);
    if (ms < 1000 || ms > 30 * 86_400_000) throw new Error('between 1s and 30d');
    return ms;
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message}`);
  }
}

export function registerDeskCommands(program: Command, ctx: () => CliContext) {
  const desk = program.command('desk').description('the human desk: hours, holidays and response SLAs');
  const hours = desk.command('hours').description("when the desk's agents work (per tenant, per department)");

  hours
    .command('set')
    .description('set the hours of a tenant (or one department): time zone, weekly schedule, holidays, closed dates')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--department <name>', 'only this department (default: the whole tenant)')
    .requiredOption('--time-zone <zone>', 'IANA time zone, e.g. America/Sao_Paulo')
    .requiredOption('--hours <spec>', "weekly schedule, e.g. 'mon-fri 08:00-18:00; sat 08:00-12:00' (or always)")
    .option('--holidays <calendars>', 'holiday calendars, comma-separated: BR, BR-SP, BR-RJ (none: no holidays)')
    .option('--closed <dates>', 'dates the desk closes besides holidays, YYYY-MM-DD comma-separated')
    .action(
      async (o: {
        tenant?: string;
        department?: string;
        timeZone: string;
        hours: string;
        holidays?: string;
        closed?: string;
      }) => {
        let schedule;
        try {
          schedule = parseDeskSchedule({
            timeZone: o.timeZone,
            hours: o.hours,
            holidays: list(o.holidays) ?? [],
            closedDates: list(o.closed) ?? [],
          });
        } catch (error) {
          if (error instanceof DeskHoursError) throw new CliError(error.message);
          throw error;
        }
        await withTenant(ctx(), o.tenant, async (db, tenant) => {
          const department = await departmentOf(db, tenant.id, o.department);
          await setDeskSettings(db, tenant.id, department, {
            timeZone: schedule.timeZone,
            hours: schedule.hoursSpec,
            holidays: schedule.holidays,
            closedDates: schedule.closedDates,
          });
          const opens = nextDeskOpening(schedule, new Date());
          console.log(
            `tenant ${tenant.slug}${department ? `, department ${department}` : ''}: ${schedule.hoursSpec} (${schedule.timeZone})` +
              `${schedule.holidays.length ? `, holidays ${schedule.holidays.join(', ')}` : ''}` +
              `${schedule.closedDates.length ? `, closed ${schedule.closedDates.join(', ')}` : ''}; ` +
              (opens?.getTime() === undefined
                ? 'it never opens'
                : opens.getTime() <= Date.now() + 1000
                  ? 'open now'
                  : `closed now, opens ${opens.toISOString()}`),
          );
        });
      },
    );

  hours
    .command('show')
    .description("the desk settings of a tenant: the tenant's and each department's (a blank inherits the tenant's)")
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const rows = await listDeskSettings(db, tenant.id);
        const departments = (await listDepartments(db, tenant.id)).map((d) => d.name);
        const { env } = ctx();
        const now = new Date();
        const effective = [null, ...departments].map((department) => {
          const policy = resolveDeskPolicy(rows, department, 'en');
          const opens = nextDeskOpening(policy.schedule, now);
          const own = rows.find((r) => r.department === department);
          return {
            department: department ?? '(tenant)',
            timeZone: policy.schedule?.timeZone ?? null,
            hours: own?.hours ?? rows.find((r) => r.department === null)?.hours ?? 'always',
            holidays: policy.schedule?.holidays ?? [],
            closed: policy.schedule?.closedDates ?? [],
            firstResponse: formatDuration(policy.firstResponseSlaMs ?? env.DESK_FIRST_RESPONSE_SLA),
            nextResponse: formatDuration(policy.nextResponseSlaMs ?? env.DESK_NEXT_RESPONSE_SLA),
            ownSettings: Boolean(own),
            now: !opens ? 'never opens' : opens.getTime() === now.getTime() ? 'open' : `opens ${opens.toISOString()}`,
          };
        });
        if (o.json) return printJson({ tenant: tenant.slug, desks: effective });
        console.log(`tenant ${tenant.slug}`);
        console.table(
          effective.map((e) => ({ ...e, holidays: e.holidays.join(',') || '—', closed: e.closed.join(',') || '—' })),
        );
      });
    });

  desk
    .command('sla')
    .description('response-time targets, counted in desk hours')
    .command('set')
    .description('set the first- and next-response SLAs of a tenant or a department (`default`: inherit)')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--department <name>', 'only this department')
    .option('--first-response <duration>', 'e.g. 15m: from the handoff to the first answer of an agent')
    .option('--next-response <duration>', "e.g. 30m: from a customer's message to the agent's next answer")
    .action(async (o: { tenant?: string; department?: string; firstResponse?: string; nextResponse?: string }) => {
      const first = slaMs('--first-response', o.firstResponse);
      const next = slaMs('--next-response', o.nextResponse);
      if (first === undefined && next === undefined) throw new CliError('give --first-response and/or --next-response');
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const department = await departmentOf(db, tenant.id, o.department);
        const row = await setDeskSettings(db, tenant.id, department, {
          firstResponseSlaMs: first,
          nextResponseSlaMs: next,
        });
        const show = (ms: number | null) => (ms === null ? 'inherited' : formatDuration(ms));
        console.log(
          `tenant ${tenant.slug}${department ? `, department ${department}` : ''}: first response ${show(row.firstResponseSlaMs)}, next response ${show(row.nextResponseSlaMs)}`,
        );
      });
    });
}
