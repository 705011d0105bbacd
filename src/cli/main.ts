import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env';
import { registerCampaignCommands } from './commands/campaign';
import { registerContactCommands } from './commands/contact';
import { registerDbCommands } from './commands/db';
import { registerPromptCommands } from './commands/prompt';
import { registerReconcileCommand } from './commands/reconcile';
import { registerSimulateCommand } from './commands/simulate';
import { registerTemplateCommands } from './commands/template';
import { registerTemporalCommands } from './commands/temporal';
import { registerTenantCommands } from './commands/tenant';
import { registerTraceCommands } from './commands/trace';
import { registerUserCommands } from './commands/user';
import { CliError, createCliContext, type CliContext } from './context';
import { SecretsKeyError } from '../secrets/keyring';

let context: CliContext | undefined;
const ctx = () => (context ??= createCliContext());

const program = new Command()
  .name('causeway')
  .description('Causeway: AI customer conversations over WhatsApp and SMS on Temporal')
  .showHelpAfterError()
  .exitOverride();

registerDbCommands(program, ctx);
registerTenantCommands(program, ctx);
registerSimulateCommand(program, ctx);
registerUserCommands(program, ctx);
registerTraceCommands(program, ctx);
registerCampaignCommands(program, ctx);
registerReconcileCommand(program, ctx);
registerTemplateCommands(program, ctx);
registerTemporalCommands(program, ctx);
registerContactCommands(program, ctx);
registerPromptCommands(program, ctx);

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
