import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from '../schema';

export type Database = PostgresJsDatabase<typeof schema>;
/** A transaction handle has the same query surface; multi-row writes take it as `tx`. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type DbOrTx = Database | Tx;

export interface DbHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** `embedded`: the PGlite server shares one session between connections, so only unnamed statements are safe. */
export function createDb(
  url: string,
  options: { max?: number; embedded?: boolean; onQuery?: (connection: number, query: string) => void } = {},
): DbHandle {
  const client = postgres(url, {
    max: options.max ?? 10,
    prepare: !options.embedded,
    onnotice: () => undefined,
    ...(options.onQuery ? { debug: options.onQuery } : {}),
    // Connection errors carry host and port only; postgres.js never puts query parameters in error messages.
    connect_timeout: 10,
  });
  const db = drizzle(client, { schema, casing: 'snake_case' });
  return { db, sql: client, close: () => client.end({ timeout: 5 }) };
}
