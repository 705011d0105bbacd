import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env';
import { CliError, createCliContext, type CliContext } from './context';
import { SecretsKeyError } from '../secrets/keyring';
import { ServiceError } from '../services/errors';
import { formatErrors, type RowError } from '../domain/campaign-import';
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
  // The one place a use case's refusal becomes the CLI's message and exit code (issue 19 A); a file's bad rows
  // (campaign import) are listed under it.
  if (error instanceof ServiceError) {
    const rows = isRowErrors(error.details) ? `\n${formatErrors(error.details)}` : '';
    console.error(`error: ${error.message}${rows}`);
    process.exit(1);
  }
  if (error instanceof ConfigError || error instanceof SecretsKeyError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
process.exit(0);

function isRowErrors(details: unknown): details is RowError[] {
  return (
    Array.isArray(details) &&
    details.length > 0 &&
    details.every((d: unknown) => typeof (d as { line?: unknown } | null)?.line === 'number')
  );
}
