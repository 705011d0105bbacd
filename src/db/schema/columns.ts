import { timestamp, uuid } from 'drizzle-orm/pg-core';

// The column shapes every aggregate repeats (issue 19): one definition each, so a table reads as what is its own.
// The tenant reference lives beside its table (tenants.ts: tenantRef), since it points at it.

export const id = () => uuid('id').primaryKey().defaultRandom();
/** Every instant in the schema is a timestamp with time zone. */
export const instant = <N extends string>(name: N) => timestamp(name, { withTimezone: true });
export const createdAt = () => instant('created_at').notNull().defaultNow();
export const updatedAt = () => instant('updated_at').notNull().defaultNow();
