import type { Command } from 'commander';
import type { CliContext } from './context';

// Each command's module (and the dependencies it needs) loads only when that command runs: `causeway campaign …`
// imports the campaign commands alone. Help and unknown commands load them all.
export type Register = (program: Command, ctx: () => CliContext) => void;
export const COMMANDS: Record<string, () => Promise<Register>> = {
  db: async () => (await import('./commands/db')).registerDbCommands,
  tenant: async () => (await import('./commands/tenant')).registerTenantCommands,
  simulate: async () => (await import('./commands/simulate')).registerSimulateCommand,
  user: async () => (await import('./commands/user')).registerUserCommands,
  trace: async () => (await import('./commands/trace')).registerTraceCommands,
  journey: async () => (await import('./commands/trace')).registerTraceCommands,
  campaign: async () => (await import('./commands/campaign')).registerCampaignCommands,
  outage: async () => (await import('./commands/campaign')).registerCampaignCommands,
  reconcile: async () => (await import('./commands/reconcile')).registerReconcileCommand,
  template: async () => (await import('./commands/template')).registerTemplateCommands,
  temporal: async () => (await import('./commands/temporal')).registerTemporalCommands,
  contact: async () => (await import('./commands/contact')).registerContactCommands,
  prompt: async () => (await import('./commands/prompt')).registerPromptCommands,
  audit: async () => (await import('./commands/audit')).registerAuditCommands,
  desk: async () => (await import('./commands/desk')).registerDeskCommands,
  policy: async () => (await import('./commands/policy')).registerPolicyCommands,
  dnc: async () => (await import('./commands/policy')).registerPolicyCommands,
  why: async () => (await import('./commands/policy')).registerPolicyCommands,
  canned: async () => (await import('./commands/canned')).registerCannedCommands,
  report: async () => (await import('./commands/report')).registerReportCommands,
  kb: async () => (await import('./commands/kb')).registerKbCommands,
};
