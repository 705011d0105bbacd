import path from 'node:path';
import type { Env } from '../config/env';
import { createDb, type DbHandle } from '../db/core/client';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface ConnectedDb extends DbHandle {
  url: string;
  embedded: boolean;
}

/** DATABASE_URL when set; otherwise the embedded Postgres (PGlite) persisted under the data directory. */
export async function connectDatabase(env: Env): Promise<ConnectedDb> {
  // Migrations are applied by the caller: runMigrations(url, { embedded }).
  if (env.DATABASE_URL) return { ...createDb(env.DATABASE_URL), url: env.DATABASE_URL, embedded: false };
  const embedded = await startEmbeddedPostgres(path.join(env.CAUSEWAY_DATA_DIR, 'pgdata'));
  // PGlite executes one query at a time; a small pool avoids queueing dozens of idle connections on it.
  const handle = createDb(embedded.url, { max: 4, embedded: true });
  return {
    ...handle,
    url: embedded.url,
    embedded: true,
    async close() {
      await handle.close();
      await embedded.stop();
    },
  };
}
