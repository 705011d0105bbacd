import type { Command } from 'commander';
import { runMigrations } from '../../db/migrate';
import type { CliContext } from '../context';

export function registerDbCommands(program: Command, ctx: () => CliContext) {
  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply the committed migrations (idempotent)')
    .action(async () => {
      const database = await ctx().database();
      try {
        await runMigrations(database.url, { embedded: database.embedded });
        console.log(`migrations applied (${database.embedded ? 'embedded Postgres' : 'DATABASE_URL'})`);
      } finally {
        await database.close();
      }
    });
}
