import { parseArgs } from 'node:util';

export const CLUSTER_USAGE = `Usage: npm run cluster -- [options]

The production topology on this machine without Docker: a Temporal server on Postgres (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/causeway), its Web UI, API processes and worker processes on one task queue.
Ctrl-C stops it (APIs first, then the workers drain, then the UI and Temporal). docs/operations.md has the details.

Options:
  --workers <n>   worker processes (1-16, default 2)
  --apis <n>      API processes (1-16, default 2; ports PORT, PORT+1, ...)
  --no-ui         do not start the Temporal Web UI
  --ui-write-actions  let the Web UI signal, cancel and terminate (read-only without it; it has no login)
  --dev-server    run the same processes on the Temporal dev server (SQLite) instead of the cluster
  --ensure        only find or build the Temporal binaries, then exit (CI runs this before the tests)
  -h, --help      print this help and exit
`;

export interface ClusterOptions {
  help: boolean;
  ensure: boolean;
  devServer: boolean;
  ui: boolean;
  uiWriteActions: boolean;
  workers: number;
  apis: number;
}

export class ClusterUsageError extends Error {
  override readonly name = 'ClusterUsageError';
}

const count = (flag: string, value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new ClusterUsageError(`--${flag} takes a number from 1 to 16`);
  return n;
};

/** Strict: an unknown or misspelt option is an error (it used to be ignored and the cluster started anyway). */
export function parseClusterOptions(argv: string[]): ClusterOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        workers: { type: 'string' },
        apis: { type: 'string' },
        'no-ui': { type: 'boolean', default: false },
        'ui-write-actions': { type: 'boolean', default: false },
        'dev-server': { type: 'boolean', default: false },
        ensure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new ClusterUsageError((error as Error).message);
  }
  return {
    help: values.help,
    ensure: values.ensure,
    devServer: values['dev-server'],
    ui: !values['no-ui'],
    uiWriteActions: values['ui-write-actions'],
    workers: count('workers', values.workers, 2),
    apis: count('apis', values.apis, 2),
  };
}
