import type { Command } from 'commander';
import { contactJourney, transactionTrace, type TraceNode } from '../../db/events/reconstruction';
import { findTenantsBySlug } from '../../db/tenants/lookup';
import { parseAddress } from '../../domain/address';
import { CliError, type CliContext } from '../context';

const time = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const brief = (payload: Record<string, unknown>) => {
  const keys = Object.entries(payload)
    .filter(([, v]) => v !== null && typeof v !== 'object')
    .slice(0, 4);
  return keys.length ? ` (${keys.map(([k, v]) => `${k}=${String(v)}`).join(', ')})` : '';
};

function printTree(nodes: TraceNode[], depth = 0) {
  for (const node of nodes) {
    console.log(
      `${time(node.occurredAt)}  ${'  '.repeat(depth)}${node.level === 'info' ? '' : `[${node.level}] `}${node.type}${brief(node.payload)}  span ${node.spanId}`,
    );
    printTree(node.children, depth + 1);
  }
}

async function tenantIdOf(
  db: Awaited<ReturnType<CliContext['database']>>['db'],
  slug: string | undefined,
): Promise<string> {
  const rows = await findTenantsBySlug(db, slug);
  if (rows.length === 0) throw new CliError(slug ? `no tenant ${slug}` : 'no tenants yet');
  if (rows.length > 1)
    throw new CliError(`several tenants: pick one with --tenant (${rows.map((r) => r.slug).join(', ')})`);
  return rows[0]!.id;
}

export function registerTraceCommands(program: Command, ctx: () => CliContext) {
  program
    .command('trace')
    .description('a transaction trace: every event of one trace id, as a tree by parent span')
    .argument(
      '<traceId>',
      '32 hex characters (from a log line, the Web UI search attribute CausewayTraceId, or the API)',
    )
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--json', 'machine-readable output', false)
    .action(async (traceId: string, o: { tenant?: string; json: boolean }) => {
      if (!/^[0-9a-f]{32}$/.test(traceId)) throw new CliError('a trace id is 32 hex characters');
      const database = await ctx().database();
      try {
        const trace = await transactionTrace(database.db, await tenantIdOf(database.db, o.tenant), traceId);
        if (!trace) throw new CliError(`no events for trace ${traceId}`);
        if (o.json) return console.log(JSON.stringify(trace, null, 2));
        console.log(`trace ${traceId}: ${trace.events.length} events`);
        printTree(trace.tree);
      } finally {
        await database.close();
      }
    });

  program
    .command('journey')
    .description("a contact's journey: all their events by time, grouped into traces, with causal links")
    .argument('<phone>', 'the contact, +E164')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--json', 'machine-readable output', false)
    .action(async (phone: string, o: { tenant?: string; json: boolean }) => {
      const address = parseAddress(phone);
      if (!address) throw new CliError('phone must be E.164 (+5511…)');
      const database = await ctx().database();
      try {
        const journey = await contactJourney(database.db, await tenantIdOf(database.db, o.tenant), address.phone);
        if (!journey) throw new CliError('no such contact');
        if (o.json) return console.log(JSON.stringify(journey, null, 2));
        console.log(
          `journey of ${journey.contact.name ?? 'contact'} ${journey.contact.phone}: ${journey.clusters.length} traces`,
        );
        for (const cluster of journey.clusters) {
          const cause = cluster.causalTraceId ? `  ← caused by ${cluster.causalTraceId}` : '';
          console.log(`\ntrace ${cluster.traceId}  ${time(cluster.startedAt)} → ${time(cluster.endedAt)}${cause}`);
          for (const event of cluster.events)
            console.log(
              `  ${time(event.occurredAt)}  ${event.level === 'info' ? '' : `[${event.level}] `}${event.type}${brief(event.payload)}`,
            );
        }
      } finally {
        await database.close();
      }
    });
}
