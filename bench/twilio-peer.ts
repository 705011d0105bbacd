// Child process of `npm run bench`: the fake Twilio and the API that receives its status callbacks, as in
// production (Twilio is remote, the API is its own deployment), so neither competes with the worker's event loop
// while the campaign pacing is measured. Prints its addresses as one JSON line; stops when stdin closes.
import { parsePayloadKeys } from '../src/temporal/payload-codec';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp } from '../src/api/app';
import { loadEnv } from '../src/config/env';
import { createDb } from '../src/db/core/client';
import { installKeyring, parseKeyring } from '../src/secrets/keyring';
import { pathAndQuery, signedWebhook } from '../src/integrations/signed-webhook';
import { createLogger } from '../src/logger';
import { createTemporalClient } from '../src/temporal/connection';
import { startFakeTwilio } from '../test/support/fake-twilio';

interface PeerConfig {
  databaseUrl: string;
  temporalAddress: string;
  publicBaseUrl: string;
  accountSid: string;
  authToken: string;
  /** A throwaway key of this bench run. */ payloadKeys: string;
  secretsKeys: string;
}
const config = JSON.parse(process.argv[2] ?? '{}') as PeerConfig;

let apiUrl = '';
const twilio = await startFakeTwilio({
  statusCallbacks: {
    rewrite: (url) => url.replace(config.publicBaseUrl, apiUrl),
    sign: (url, token, params) =>
      signedWebhook({ publicBaseUrl: config.publicBaseUrl, path: pathAndQuery(url), authToken: token, params }),
  },
});
twilio.addAccount(config.accountSid, config.authToken);
const env = loadEnv({
  DATABASE_URL: config.databaseUrl,
  TEMPORAL_ADDRESS: config.temporalAddress,
  PUBLIC_BASE_URL: config.publicBaseUrl,
  LOG_LEVEL: 'silent',
});
installKeyring(parseKeyring(config.secretsKeys));
const database = createDb(config.databaseUrl, { max: 10 });
const temporal = createTemporalClient({
  address: config.temporalAddress,
  namespace: env.TEMPORAL_NAMESPACE,
  payloadKeys: parsePayloadKeys(config.payloadKeys),
});
const listen = async (fetch: (request: Request) => Response | Promise<Response>) => {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};
const api = await listen(
  createApp({ env, db: database.db, temporal: temporal.client, log: createLogger('silent') }).fetch,
);
apiUrl = api.url;
// Receipt times of the messages the fake accepted, for the bench's rate figures.
const control = await listen(
  new Hono().get('/sent', (c) => c.json(twilio.sent.map((m) => m.dateCreated.getTime()))).fetch,
);
console.log(JSON.stringify({ twilioUrl: twilio.url, controlUrl: control.url }));

process.stdin.resume();
async function stop() {
  await new Promise((resolve) => api.server.close(resolve));
  await new Promise((resolve) => control.server.close(resolve));
  await Promise.all([twilio.close(), temporal.close(), database.close()]);
  process.exit(0);
}
process.stdin.on('end', () => void stop());
