import { spawn } from 'node:child_process';
import { childProcessEnv } from '../../config/env';
import { createMissingDatabases, hasTemporalSchemaVersion } from '../../db/core/cluster-admin';
import type { ClusterLayout, PostgresTarget } from './config';

/** Creates the databases that do not exist yet (Causeway's and Temporal's two); returns the ones it created. */
export const createDatabases = (pg: PostgresTarget, names: string[]): Promise<string[]> =>
  createMissingDatabases(pg, names);

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
    if (!(await hasTemporalSchemaVersion(pg, database))) {
      progress(`temporal schema: setting up ${database}`);
      await sqlTool(tool, pg, database, ['setup-schema', '-v', '0.0']);
    }
    await sqlTool(tool, pg, database, ['update-schema', '--schema-name', schemaName]);
  }
}
