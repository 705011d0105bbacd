import type { Command } from 'commander';
import { ErasureRequestError, requestErasure } from '../../temporal/start-erasure';
import { cliActor, recordCliAudit } from '../audit';
import { CliError, type CliContext } from '../context';

/** `causeway contact erase <phone> --tenant <slug> --reason "…"`: LGPD/GDPR erasure, run as `erasure:<tenant>:<hash>`. */
export function registerContactCommands(program: Command, ctx: () => CliContext) {
  const contact = program.command('contact').description('contacts (data-subject requests)');
  contact
    .command('erase <phone>')
    .description(
      'erase a contact: end its workflows, anonymize or remove its rows, delete its Temporal histories (audited)',
    )
    .requiredOption('--tenant <slug>', 'the tenant the contact belongs to')
    .requiredOption('--reason <text>', 'why (kept in the audit row: write a ticket number, not personal data)')
    .option('--no-wait', 'start the erasure and return without waiting for it')
    .action(async (phone: string, o: { tenant: string; reason: string; wait: boolean }) => {
      const database = await ctx().database();
      const temporal = await ctx().temporal();
      try {
        const started = await requestErasure(database.db, temporal.client, ctx().env.TEMPORAL_TASK_QUEUE, {
          tenant: { slug: o.tenant },
          phone,
          reason: o.reason,
          requestedBy: cliActor(),
        }).catch((error: unknown) => {
          if (error instanceof ErasureRequestError) throw new CliError(error.message);
          throw error;
        });
        await recordCliAudit(database.db, {
          tenantId: started.tenantId,
          action: 'contact.erase',
          targetType: 'contact',
          targetId: `contact:${started.contactHash}`,
          details: { workflowId: started.workflowId, runId: started.runId },
        });
        console.log(`erasure ${started.workflowId} started`);
        console.log(`  ${ctx().webUiLink(started.workflowId)}`);
        if (!o.wait) return;
        const summary = await started.handle.result();
        const removed = Object.entries(summary.counts)
          .filter(([, n]) => n > 0)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ');
        console.log(`erased: ${removed || 'nothing left to erase'}`);
        console.log(
          `  workflows terminated: ${summary.workflowsTerminated}, histories deleted: ${summary.historiesDeleted}`,
        );
        if (summary.suppressed)
          console.log('  the contact had opted out: later campaign imports of this number import it as opted out');
        console.log(`  audit row: erasures ${summary.erasureId}`);
      } finally {
        await Promise.all([temporal.close(), database.close()]);
      }
    });
}
