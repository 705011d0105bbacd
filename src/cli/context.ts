import { readEnvOrExit, type Env } from '../config/env';
import { connectDatabase, type ConnectedDb } from '../db/connect';
import { createDb } from '../db/client';
import { readRuntimeInfo, type RuntimeInfo } from '../runtime-file';

export interface CliContext {
  env: Env;
  runtime: RuntimeInfo | null;
  /** Opens the database the service uses: DATABASE_URL, else the running `npm start`'s embedded one, else opens it. */
  database(): Promise<ConnectedDb>;
}

export function createCliContext(): CliContext {
  const env = readEnvOrExit();
  const runtime = readRuntimeInfo(env.CAUSEWAY_DATA_DIR);
  return {
    env,
    runtime,
    async database() {
      if (!env.DATABASE_URL && runtime) return { ...createDb(runtime.databaseUrl, { max: 2, embedded: true }), url: runtime.databaseUrl, embedded: true };
      return connectDatabase(env);
    },
  };
}

/** A CLI failure with a message for the user (no stack trace), and the exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}
