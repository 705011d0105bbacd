// `npm run api`: the API alone (production-like; scale it behind a load balancer). `npm start` runs everything.
import { serve } from '@hono/node-server';
import { applyTwilioEnvAtStart, connectStandalone, startProcess, startStandalone, stopOn } from '../boot';
import { reportReady } from '../fatal';
import { EncryptionCodec } from '../temporal/payload-codec';
import { createApp } from './app';

const start = startStandalone(startProcess({ name: 'api', fatalExits: true }), 'the API');
const { env, log, payloadKeys } = start;
const { database, temporal, close } = connectStandalone(start);
// Failure to register TWILIO_* is not fatal here: the API starts and answers 503 until the database is back.
await applyTwilioEnvAtStart(database.db, start, 'ignore');
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
  await close();
  process.exit(0);
}
stopOn(() => void shutdown(), { signals: true });
