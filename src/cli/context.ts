import { tenantBySlug } from '../services/tenants';
import { readEnvOrExit, type Env } from '../config/env';
import type { ConnectedDb } from '../local/connect-database';
import { createDb, type Database } from '../db/core/client';
import { readRuntimeInfo, type RuntimeInfo } from '../runtime-file';
import { installKeyringSource } from '../secrets/keyring';
import type { TemporalClientHandle } from '../temporal/connection';
import { readLocalPayloadKeys } from '../temporal/payload-keys';

export interface CliContext {
  env: Env;
  runtime: RuntimeInfo | null;
  /** Opens the database the service uses: DATABASE_URL, else the running `npm start`'s embedded one, else opens it. */
  database(): Promise<ConnectedDb>;
  /**
   * A Temporal client: TEMPORAL_ADDRESS, else the running `npm start`'s dev server. Loads the Temporal SDK on first
   * use, so commands that never talk to Temporal do not pay for it.
   */
  temporal(): Promise<TemporalClientHandle>;
  /** The Temporal Web UI page of a workflow. */
  webUiLink(workflowId: string): string;
}

export function createCliContext(): CliContext {
  const env = readEnvOrExit();
  const runtime = readRuntimeInfo(env.CAUSEWAY_DATA_DIR);
  installKeyringSource({ configured: env.CAUSEWAY_SECRETS_KEYS, dataDir: env.CAUSEWAY_DATA_DIR });
  return {
    env,
    runtime,
    async database() {
      if (!env.DATABASE_URL && runtime)
        return {
          ...createDb(runtime.databaseUrl, { max: 2, embedded: true }),
          url: runtime.databaseUrl,
          embedded: true,
        };
      const { connectDatabase } = await import('../local/connect-database'); // the embedded Postgres only when it is used
      return connectDatabase(env);
    },
    async temporal() {
      const address = env.TEMPORAL_ADDRESS ?? runtime?.temporalAddress;
      if (!address)
        throw new CliError('Temporal is not reachable: start the service (npm start) or set TEMPORAL_ADDRESS');
      // The keys of the service it talks to: CAUSEWAY_PAYLOAD_KEYS, else the running `npm start`'s local key.
      const payloadKeys = env.CAUSEWAY_PAYLOAD_KEYS ?? readLocalPayloadKeys(env.CAUSEWAY_DATA_DIR);
      if (!payloadKeys && env.NODE_ENV === 'production')
        throw new CliError("CAUSEWAY_PAYLOAD_KEYS is not set: the service's payloads cannot be encrypted or read");
      const { createTemporalClient } = await import('../temporal/connection');
      return createTemporalClient({
        address,
        namespace: env.TEMPORAL_NAMESPACE,
        payloadKeys,
        refusePlaintext: env.CAUSEWAY_PLAINTEXT_PAYLOADS === 'refuse',
      });
    },
    webUiLink(workflowId: string) {
      const base = env.TEMPORAL_UI_URL ?? runtime?.webUiUrl ?? `http://localhost:${env.TEMPORAL_UI_PORT}`;
      return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(env.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
    },
  };
}

/**
 * The use cases' context (src/services/context.ts) from what a command opened: its database and, when it talks to
 * Temporal, the client. The CLI has no Twilio gateway or model; the verbs it calls need neither.
 */
export function cliServiceContext(ctx: CliContext, db: ConnectedDb['db'], temporal: TemporalClientHandle) {
  return { db, temporal: { client: temporal.client, taskQueue: ctx.env.TEMPORAL_TASK_QUEUE } };
}

/** A CLI failure with a message for the user (no stack trace), and the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The tenant `--tenant` names, or the only one: the services' lookup itself. Its ServiceError (no such tenant,
 * several) is mapped once, by src/cli/main.ts.
 */
export const tenantOf = tenantBySlug;

/** Opens the database for one command and closes it afterwards, whatever happens. */
export async function withDatabase<T>(ctx: CliContext, run: (db: Database) => Promise<T>): Promise<T> {
  const database = await ctx.database();
  try {
    return await run(database.db);
  } finally {
    await database.close();
  }
}

/** `withDatabase` for a command on one tenant (`--tenant`, or the only one). */
export function withTenant<T>(
  ctx: CliContext,
  slug: string | undefined,
  run: (db: Database, tenant: Awaited<ReturnType<typeof tenantOf>>) => Promise<T>,
): Promise<T> {
  return withDatabase(ctx, async (db) => run(db, await tenantOf(db, slug)));
}

/** `--json` output: indented, one document. */
export const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));
