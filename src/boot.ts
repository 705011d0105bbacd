// The start every Causeway process shares (issue 19): environment, logger, fatal handlers, keys, telemetry, database,
// Temporal client, stored secrets, TWILIO_*, shutdown. The worker (worker.ts), the API (src/api/server.ts), `npm start`
// (src/start.ts) and `npm run cluster` call these steps in their order with their options, so each step is written once.
import { readEnvOrExit, type Env } from './config/env';
import { applyTwilioEnv, logTwilioEnv } from './db/tenants/bootstrap';
import { createDb, type DbHandle } from './db/core/client';
import { sealStoredSecrets } from './db/tenants/secrets';
import { exitOnFatalErrors, stopWithParent } from './fatal';
import { createLogger, type Logger } from './logger';
import { setUpSecrets } from './secrets/setup';
import { createTemporalClient, type TemporalClientHandle } from './temporal/connection';
import type { PayloadKey } from './temporal/payload-codec';
import { resolvePayloadKeys } from './temporal/payload-keys';
import { startTelemetry } from './tracing/telemetry';

export interface ProcessStart {
  env: Env;
  log: Logger;
}

/**
 * The environment (exit 2 with the reasons when it is invalid) and the logger. `fatalExits`: an error nothing caught
 * ends the process with exit 1 for its supervisor (the standalone worker and API; `npm start` and the cluster stop
 * through their ordered shutdown instead).
 */
export function startProcess(options: { name?: string; fatalExits?: boolean; env?: Env } = {}): ProcessStart {
  const env = options.env ?? readEnvOrExit();
  const log = createLogger(env.LOG_LEVEL, options.name ? { name: options.name } : undefined);
  if (options.fatalExits) exitOnFatalErrors(log);
  return { env, log };
}

/** Logs the reason and exits 1: for a standalone process whose configuration cannot work (the supervisor retries). */
function exitWith(log: Logger, message: string, error?: unknown): never {
  if (error === undefined) log.fatal(message);
  else log.fatal({ error: { type: (error as Error).name, message: (error as Error).message } }, message);
  process.exit(1);
}

export interface StandaloneStart extends ProcessStart {
  databaseUrl: string;
  temporalAddress: string;
  /** Payload encryption keys, newest first (null: unencrypted, development only). */
  payloadKeys: PayloadKey[] | null;
}

/**
 * The standalone worker's and API's configuration: both need DATABASE_URL and TEMPORAL_ADDRESS (`npm start` passes
 * them to its children), the secrets keyring and the payload keys; any of them missing ends the process here, before
 * anything is dialled.
 */
export function startStandalone(start: ProcessStart, what: 'the worker' | 'the API'): StandaloneStart {
  const { env, log } = start;
  if (!env.DATABASE_URL || !env.TEMPORAL_ADDRESS)
    exitWith(
      log,
      `${what === 'the API' ? 'the standalone API' : 'a standalone worker'} needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything locally instead)`,
    );
  try {
    setUpSecrets(env, log);
  } catch (error) {
    exitWith(log, `${what === 'the API' ? 'API' : 'worker'} cannot open the stored secrets; exiting`, error);
  }
  let payloadKeys: PayloadKey[] | null;
  try {
    payloadKeys = resolvePayloadKeys(env, log, what);
  } catch (error) {
    exitWith(log, (error as Error).message);
  }
  return { ...start, databaseUrl: env.DATABASE_URL, temporalAddress: env.TEMPORAL_ADDRESS, payloadKeys };
}

/** A Temporal client with this deployment's payload keys and plaintext policy (lazy: it dials on first use). */
export function temporalClientFor(env: Env, address: string, payloadKeys: PayloadKey[] | null): TemporalClientHandle {
  return createTemporalClient({
    address,
    namespace: env.TEMPORAL_NAMESPACE,
    payloadKeys,
    refusePlaintext: env.CAUSEWAY_PLAINTEXT_PAYLOADS === 'refuse',
  });
}

export interface Connected {
  database: DbHandle;
  temporal: TemporalClientHandle;
  /** Telemetry, the Temporal client and the database pool, closed together. */
  close: () => Promise<void>;
}

/** Telemetry (OTLP export when configured), the database pool and the Temporal client of a standalone process. */
export function connectStandalone(start: StandaloneStart): Connected {
  const { env, log } = start;
  const stopTelemetry = startTelemetry(env, log);
  const embedded = env.CAUSEWAY_EMBEDDED_DATABASE === '1';
  // PGlite executes one query at a time; a small pool avoids queueing dozens of idle connections on it.
  const database = createDb(start.databaseUrl, embedded ? { max: 4, embedded } : {});
  const temporal = temporalClientFor(env, start.temporalAddress, start.payloadKeys);
  return {
    database,
    temporal,
    close: async () => {
      await Promise.all([temporal.close(), database.close(), stopTelemetry()]);
    },
  };
}

/** Plain auth tokens from before encryption, or tokens under a retired key, are sealed anew (idempotent). */
export async function sealSecretsAtStart(db: DbHandle['db'], log: Logger): Promise<void> {
  const secrets = await sealStoredSecrets(db);
  if (secrets.sealed + secrets.resealed > 0)
    log.info(secrets, 'secrets: stored auth tokens sealed with the current key');
  if (secrets.unknownKeyIds.length > 0)
    log.error(
      { keyIds: secrets.unknownKeyIds },
      'secrets: some auth tokens are sealed with keys not in CAUSEWAY_SECRETS_KEYS; those tenants cannot verify webhooks or send',
    );
}

/**
 * TWILIO_* registers or updates its tenant from each standalone process (compose runs no `npm start`). `failure`:
 * `throw` for the worker (it needs the database anyway), `ignore` for the API (it starts and answers 503 until the
 * database is back).
 */
export async function applyTwilioEnvAtStart(
  db: DbHandle['db'],
  start: ProcessStart,
  failure: 'throw' | 'ignore',
): Promise<void> {
  const outcome = applyTwilioEnv(db, start.env);
  logTwilioEnv(
    start.log,
    failure === 'throw'
      ? await outcome
      : await outcome.catch((error: unknown) => ({
          kind: 'ignored' as const,
          reason: `database not ready: ${(error as Error).name}`,
        })),
  );
}

/**
 * How a standalone process stops: `signals` (the API) runs `stop` on SIGTERM/SIGINT, once; the worker leaves them to
 * the Temporal SDK, which drains on its own. Either way a child of `npm start` stops when its supervisor goes away.
 */
export function stopOn(stop: () => void, options: { signals: boolean }): void {
  if (options.signals) {
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  stopWithParent(stop);
}
