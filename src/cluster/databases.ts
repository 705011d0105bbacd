import { spawn } from 'node:child_process';
import postgres from 'postgres';
import { childProcessEnv } from '../config/env';
import type { ClusterLayout, PostgresTarget } from './config';

const adminUrl = (pg: PostgresTarget, database: string) => {
  const url = new URL('postgres://localhost');
  url.hostname = pg.host;
  url.port = String(pg.port);
  url.username = pg.user;
  url.password = pg.password;
  url.pathname = `/${database}`;
  return url.toString();
};

/** Creates the databases that do not exist yet (Causeway's and Temporal's two); returns the ones it created. */
export async function createDatabases(pg: PostgresTarget, names: string[]): Promise<string[]> {
  // The maintenance database every Postgres has; the names were validated as plain identifiers (config.ts).
  const admin = postgres(adminUrl(pg, 'postgres'), { max: 1, onnotice: () => undefined, connect_timeout: 10 });
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

/** Runs temporal-sql-tool with the connection flags; its output is returned for error messages. */
function sqlTool(tool: string, pg: PostgresTarget, database: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      tool,
      [
        '--plugin',
        'postgres12',
        '--ep',
        pg.host,
        '--port',
        String(pg.port),
        '--user',
        pg.user,
        '--db',
        database,
        ...args,
      ],
      {
        // The password goes through the environment, not argv (the process list shows argv to every user).
        env: childProcessEnv({ SQL_PASSWORD: pg.password }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`temporal-sql-tool ${args[0]} on ${database} exited with ${code}:\n${output.slice(-2000)}`)),
    );
  });
}

async function hasSchemaVersion(pg: PostgresTarget, database: string): Promise<boolean> {
  const sql = postgres(adminUrl(pg, database), { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    const [row] = await sql`select to_regclass('public.schema_version') is not null as present`;
    if (!row?.present) return false;
    const [version] = await sql`select 1 from schema_version where version_partition = 0 and db_name = ${database}`;
    return Boolean(version);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Temporal's schemas, idempotent: `setup-schema -v 0.0` only on a database that has no schema version yet (run
 * again, it would reset the recorded version to 0.0 and the update would replay every migration onto existing
 * tables), then `update-schema`, which applies only the versions above the recorded one. The schema files are
 * the ones embedded in the tool (`--schema-name`), so they always match its version.
 */
export async function setupTemporalSchemas(
  tool: string,
  layout: ClusterLayout,
  progress: (line: string) => void,
): Promise<void> {
  const pg = layout.postgres;
  for (const [database, schemaName] of [
    [layout.temporalDatabase, 'postgresql/v12/temporal'],
    [layout.visibilityDatabase, 'postgresql/v12/visibility'],
  ] as const) {
    if (!(await hasSchemaVersion(pg, database))) {
      progress(`temporal schema: setting up ${database}`);
      await sqlTool(tool, pg, database, ['setup-schema', '-v', '0.0']);
    }
    await sqlTool(tool, pg, database, ['update-schema', '--schema-name', schemaName]);
  }
}
