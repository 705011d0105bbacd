import postgres from 'postgres';

/**
 * Administrative SQL for the cluster launcher (src/local/cluster): it runs against a Postgres server before any of
 * Causeway's databases exist, as the server's admin user, so it uses a short-lived postgres.js connection of its
 * own instead of the service's Drizzle handle.
 */
export interface AdminTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

const adminUrl = (pg: AdminTarget, database: string) => {
  const url = new URL('postgres://localhost');
  url.hostname = pg.host;
  url.port = String(pg.port);
  url.username = pg.user;
  url.password = pg.password;
  url.pathname = `/${database}`;
  return url.toString();
};

const connect = (pg: AdminTarget, database: string) =>
  postgres(adminUrl(pg, database), { max: 1, onnotice: () => undefined, connect_timeout: 10 });

/**
 * Creates the databases that do not exist yet; returns the ones it created. The names must be plain identifiers
 * (the cluster config validates them): they are spliced into `create database`.
 */
export async function createMissingDatabases(pg: AdminTarget, names: string[]): Promise<string[]> {
  // The maintenance database every Postgres has.
  const admin = connect(pg, 'postgres');
  try {
    const created: string[] = [];
    for (const name of names) {
      const [row] = await admin`select 1 as found from pg_database where datname = ${name}`;
      if (row) continue;
      await admin.unsafe(`create database ${name}`);
      created.push(name);
    }
    return created;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Whether temporal-sql-tool has recorded a schema version in this database (its `schema_version` table). */
export async function hasTemporalSchemaVersion(pg: AdminTarget, database: string): Promise<boolean> {
  const sql = connect(pg, database);
  try {
    const [row] = await sql`select to_regclass('public.schema_version') is not null as present`;
    if (!row?.present) return false;
    const [version] = await sql`select 1 from schema_version where version_partition = 0 and db_name = ${database}`;
    return Boolean(version);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
