import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env';
import { CliError, createCliContext, type CliContext } from './context';
import { SecretsKeyError } from '../secrets/keyring';

let context: CliContext | undefined;
const ctx = () => (context ??= createCliContext());

const program = new Command()
  .name('causeway')
  .description('Causeway: AI customer conversations over WhatsApp and SMS on Temporal')
  .showHelpAfterError()
  .exitOverride();

// Each command's module (and the dependencies it needs) loads only when that command runs: `causeway campaign …`
// imports the campaign commands alone. Help and unknown commands load them all.
type Register = (program: Command, ctx: () => CliContext) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
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
const named = process.argv[2];
const loaders =
  named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : [...new Set(Object.values(COMMANDS))];
const registers = new Set(await Promise.all(loaders.map((load) => load())));
for (const register of registers) register(program, ctx);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof CliError) {
    console.error(`error: ${error.message}`);
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError || error instanceof SecretsKeyError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
process.exit(0);
