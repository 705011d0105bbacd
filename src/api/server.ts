// `npm run api`: the API alone (production-like; scale it behind a load balancer). `npm start` runs everything.
import { serve } from '@hono/node-server';
import { readEnvOrExit } from '../config/env';
import { applyTwilioEnv, logTwilioEnv } from '../db/bootstrap';
import { createDb } from '../db/client';
import { exitOnFatalErrors, reportReady, stopWithParent } from '../fatal';
import { createLogger } from '../logger';
import { setUpSecrets } from '../secrets/setup';
import { createTemporalClient } from '../temporal/connection';
import { resolvePayloadKeys } from '../temporal/payload-keys';
import { EncryptionCodec } from '../temporal/payload-codec';
import { startTelemetry } from '../tracing/telemetry';
import { createApp } from './app';

const env = readEnvOrExit();
const log = createLogger(env.LOG_LEVEL, { name: 'api' });
exitOnFatalErrors(log);
if (!env.DATABASE_URL || !env.TEMPORAL_ADDRESS) {
  log.fatal('the standalone API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything locally instead)');
  process.exit(1);
}
try {
  setUpSecrets(env, log);
} catch (error) {
  log.fatal(
    { error: { type: (error as Error).name, message: (error as Error).message } },
    'API cannot open the stored secrets; exiting',
  );
  process.exit(1);
}
let payloadKeys;
try {
  payloadKeys = resolvePayloadKeys(env, log, 'the API');
} catch (error) {
  log.fatal((error as Error).message);
  process.exit(1);
}
const stopTelemetry = startTelemetry(env, log);
const embedded = env.CAUSEWAY_EMBEDDED_DATABASE === '1';
// PGlite executes one query at a time; a small pool avoids queueing dozens of idle connections on it.
const database = createDb(env.DATABASE_URL, embedded ? { max: 4, embedded } : {});
const temporal = createTemporalClient({
  address: env.TEMPORAL_ADDRESS,
  namespace: env.TEMPORAL_NAMESPACE,
  payloadKeys,
  refusePlaintext: env.CAUSEWAY_PLAINTEXT_PAYLOADS === 'refuse',
});
// TWILIO_* registers or updates its tenant here too (compose runs no `npm start`); failure to do so is not fatal.
logTwilioEnv(
  log,
  await applyTwilioEnv(database.db, env).catch((error: unknown) => ({
    kind: 'ignored' as const,
    reason: `database not ready: ${(error as Error).name}`,
  })),
);
const app = createApp({
  env,
  db: database.db,
  temporal: temporal.client,
  log,
  payloadCodec: payloadKeys ? new EncryptionCodec(payloadKeys) : null,
});
const server = serve({ fetch: app.fetch, port: env.PORT, hostname: '0.0.0.0' }, () => {
  log.info({ port: env.PORT, webhook: `${env.PUBLIC_BASE_URL}/webhooks/twilio/messages` }, 'API listening');
  reportReady();
});
// A port already taken (or any listen error) is fatal: exit 1 and let the supervisor retry with backoff.
server.on('error', (error: Error) => {
  log.fatal({ error: { type: error.name, message: error.message } }, 'API could not listen; exiting');
  process.exit(1);
});

async function shutdown() {
  // Stop taking requests, let in-flight ones finish, then release connections.
  await new Promise((resolve) => server.close(resolve));
  await Promise.all([temporal.close(), database.close(), stopTelemetry()]);
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
stopWithParent(() => void shutdown());
