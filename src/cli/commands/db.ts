import type { Command } from 'commander';
import { runMigrations } from '../../db/core/migrate';
import { sealStoredSecrets } from '../../db/tenants/secrets';
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
        // Auth tokens still plain (from before encryption) or under a retired key are sealed with the current key.
        const secrets = await sealStoredSecrets(database.db);
        console.log(
          `secrets: ${secrets.sealed} auth token(s) sealed, ${secrets.resealed} re-sealed under the current key, ${secrets.hashKeysSealed} contact-hash key(s) sealed${secrets.unknownKeyIds.length ? `; sealed with unknown key(s) ${secrets.unknownKeyIds.join(', ')}: add them to CAUSEWAY_SECRETS_KEYS` : ''}`,
        );
      } finally {
        await database.close();
      }
    });
}
