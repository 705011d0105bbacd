import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tenants } from '../../src/db/schema';
import { testDb } from '../support/db';

const handle = testDb();
const { db } = handle;
afterAll(() => handle.close());

/** The statements this session holds prepared whose text contains `marker`. */
async function preparedWith(tx: Pick<typeof db, 'execute'>, marker: string): Promise<number> {
  const [row] = await tx.execute<{ n: number }>(
    sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`,
  );
  return row!.n;
}

describe('drizzle queries run as prepared statements (src/db/core/client.ts)', () => {
  // The embedded server (PGlite) shares one session between connections: there nothing is prepared, on purpose.
  it.skipIf(inject('databaseEmbedded'))(
    'a builder query and a raw one are prepared on the connection, in a transaction and in a savepoint',
    async () => {
      const marker = `prep_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      await db.transaction(async (tx) => {
        await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, marker));
        expect(await preparedWith(tx, '"tenants"."slug" = $1')).toBeGreaterThan(0);
        await tx.execute(sql`select ${marker}::text as ${sql.raw(marker)}`);
        expect(await preparedWith(tx, marker)).toBe(1);
        await tx.transaction(async (inner) => {
          // (With no parameter postgres.js sends a simple query, which is never prepared.)
          await inner.execute(sql`select ${1}::int as ${sql.raw(`${marker}_inner`)}`);
          expect(await preparedWith(inner, `${marker}_inner`)).toBe(1);
        });
      });
    },
  );

  it('a prepared statement runs again with new parameters and gives their answer', async () => {
    const values = [] as number[];
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8])
      values.push((await db.execute<{ v: number }>(sql`select ${n}::int * 2 as v`))[0]!.v);
    expect(values).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });
});
