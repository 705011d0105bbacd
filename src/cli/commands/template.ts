import type { Command } from 'commander';
import { listContentTemplates, setContentTemplate } from '../../db/outbound/content-templates';
import { parseContentPositions } from '../../domain/whatsapp-window';
import { recordCliAudit } from '../audit';
import { type CliContext, CliError, printJson, tenantOf, withDatabase, withTenant } from '../context';

/** Twilio Content SIDs are HX followed by 32 hex digits. */
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

export function registerTemplateCommands(program: Command, ctx: () => CliContext) {
  const template = program
    .command('template')
    .description('WhatsApp Content templates: what a business-initiated message becomes outside the 24-hour window');

  template
    .command('set')
    .description(
      'use an approved Content template for one purpose (idle_nudge, promise_reminder, a campaign template key, agent_reply, outage_notice…)',
    )
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .requiredOption(
      '--purpose <purpose>',
      'what the message is for: a message template key, or agent_reply, outage_notice, outage_resolution, broadcast',
    )
    .requiredOption('--content-sid <sid>', "the approved template's Content SID (HX…)")
    .option(
      '--variables <json>',
      'positions to variable names, e.g. \'{"1":"name","2":"amount"}\' (agent_reply and body sends: "text" is the message)',
      '{}',
    )
    .action(async (o: { tenant?: string; purpose: string; contentSid: string; variables: string }) => {
      if (!/^[a-z0-9_]{1,64}$/.test(o.purpose))
        throw new CliError('--purpose must be 1–64 characters of a-z, 0-9 and _');
      if (!CONTENT_SID.test(o.contentSid)) throw new CliError('--content-sid must be HX followed by 32 hex digits');
      let variables: Record<string, string>;
      try {
        variables = parseContentPositions(o.variables);
      } catch (error) {
        throw new CliError(`--variables: ${(error as Error).message}`);
      }
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        await setContentTemplate(db, {
          tenantId: tenant.id,
          purpose: o.purpose,
          contentSid: o.contentSid,
          variables,
        });
        await recordCliAudit(db, {
          tenantId: tenant.id,
          action: 'template.set',
          targetType: 'templates',
          targetId: o.purpose,
          details: { contentSid: o.contentSid },
        });
        console.log(`tenant ${tenant.slug}: WhatsApp "${o.purpose}" messages outside the window use ${o.contentSid}`);
      });
    });

  template
    .command('list')
    .description('the Content templates configured per tenant and purpose')
    .option('--tenant <slug>', 'only this tenant')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      await withDatabase(ctx(), async (db) => {
        const tenant = o.tenant ? await tenantOf(db, o.tenant) : null;
        const rows = await listContentTemplates(db, tenant?.id);
        if (o.json) return printJson(rows);
        if (rows.length === 0)
          return console.log('no Content templates configured (causeway template set --purpose … --content-sid HX…)');
        console.table(
          rows.map((r) => ({
            tenant: r.tenant,
            purpose: r.purpose,
            contentSid: r.contentSid,
            variables: JSON.stringify(r.variables),
          })),
        );
      });
    });
}
