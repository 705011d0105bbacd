import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle');

/** Applies the committed drizzle-kit migrations over one dedicated connection (safe to run repeatedly). */
export async function runMigrations(url: string, options: { embedded?: boolean } = {}): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => undefined, prepare: !options.embedded });
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.end({ timeout: 5 });
  }
}
