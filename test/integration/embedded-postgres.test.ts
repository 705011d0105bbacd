import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/core/client';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/local/embedded-postgres';
import { runMigrations } from '../../src/db/core/migrate';

let pg: EmbeddedPostgres;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-embedded-'));
  pg = await startEmbeddedPostgres(dir);
  await runMigrations(pg.url, { embedded: true });
});
afterAll(async () => {
  await pg.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded Postgres (PGlite over the wire protocol)', () => {
  it('serves several clients at once without mixing their statements or transactions', async () => {
    const a = createDb(pg.url, { max: 4, embedded: true });
    const b = createDb(pg.url, { max: 4, embedded: true });
    try {
      await a.sql`create table if not exists counter (id int primary key, n int not null)`;
      await a.sql`insert into counter values (1, 0) on conflict do nothing`;
      // Interleaved parameterized queries from two pools and transactions that must not see each other.
      const work = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b)).map((client, i) =>
        client.db.transaction(async (tx) => {
          const [row] = await tx.execute<{ n: number }>(sql`select n from counter where id = ${1} for update`);
          await tx.execute(sql`update counter set n = ${row!.n + 1} where id = ${1}`);
          const [echo] = await tx.execute<{ v: string }>(sql`select ${`value-${i}`}::text as v`);
          return echo!.v;
        }),
      );
      const echoes = await Promise.all(work);
      expect(echoes).toEqual(Array.from({ length: 40 }, (_, i) => `value-${i}`));
      const [final] = await b.sql<{ n: number }[]>`select n from counter where id = 1`;
      expect(final!.n).toBe(40);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rolls back the transaction of a client that disconnects mid-way', async () => {
    const a = createDb(pg.url, { max: 1, embedded: true });
    await a.sql`create table if not exists t_rollback (v int)`;
    const reserved = await a.sql.reserve();
    await reserved`begin`;
    await reserved`insert into t_rollback values (1)`;
    reserved.release();
    await a.close();
    const b = createDb(pg.url, { max: 1, embedded: true });
    const rows = await b.sql`select * from t_rollback`;
    expect(rows).toHaveLength(0);
    await b.close();
  });
});
