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
  const db = drizzle(options.embedded ? client : preparing(client), { schema, casing: 'snake_case' });
  return { db, sql: client, close: () => client.end({ timeout: 5 }) };
}

/**
 * Drizzle runs every query it did not name as an unnamed statement (`prepare: false`), so Postgres parses and plans
 * each execution again: at 110 campaign sends/s, planning took as long as executing (0.41–0.57 ms a statement,
 * pg_stat_statements with track_planning, 2026-12-07). Through this wrapper they are named prepared statements, as
 * postgres.js prepares its own queries by default: parsed once per connection, and after five executions Postgres
 * keeps a generic plan when it costs no more than the custom ones. The statements a connection holds are bounded by
 * the query shapes (an `in (…)` list is one shape per length) and freed when postgres.js recycles the connection
 * (max_lifetime, 30–60 min).
 */
function preparing(client: postgres.Sql): postgres.Sql {
  const wrap = <T extends object>(sql: T): T =>
    new Proxy(sql, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (key === 'unsafe')
          return (query: string, params?: unknown[], opts?: object) =>
            (value as (...a: unknown[]) => unknown).call(target, query, params, { ...opts, prepare: true });
        if (key === 'begin' || key === 'savepoint')
          return (...args: unknown[]) => {
            const i = args.findIndex((a) => typeof a === 'function');
            const callback = args[i] as (tx: object) => unknown;
            args[i] = (tx: object) => callback(wrap(tx));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        return value;
      },
    });
  return wrap(client);
}
