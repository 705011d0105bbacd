import { sql } from 'drizzle-orm';
import type { Database } from './client';

/** The readiness probe's database check: one trivial round trip; throws when Postgres does not answer. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
