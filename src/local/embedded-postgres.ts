import fs from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGliteServer } from './pglite-server';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WASM) persisted under `dataDir`, served over the Postgres wire protocol on a
 * loopback port so the service, the CLI and drizzle all use the same postgres.js driver as production.
 */
export async function startEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  await fs.mkdir(dir, { recursive: true });
  // pg_trgm: conversation search's contact-name index (issue 20 E) and the knowledge base's trigram similarity
  // (issue 23 D), as on a server Postgres with contrib; the migrations create it when available.
  const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
  const server = new PGliteServer(db);
  const address = await server.listen(port);
  return {
    url: `postgres://postgres@${address.host}:${address.port}/postgres`,
    async stop() {
      await server.close();
      await db.close();
    },
  };
}
