import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env';
import { CliError, createCliContext, type CliContext } from './context';
import { SecretsKeyError } from '../secrets/keyring';
import { COMMANDS } from './commands';

let context: CliContext | undefined;
const ctx = () => (context ??= createCliContext());

const program = new Command()
  .name('causeway')
  .description('Causeway: AI customer conversations over WhatsApp and SMS on Temporal')
  .showHelpAfterError()
  .exitOverride();

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
