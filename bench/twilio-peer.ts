// Child processes of `npm run bench`: the fake Twilio (role `twilio`) and the API that receives its status callbacks
// (role `api`), each in a process of its own, as in production (Twilio is remote, the API is its own deployment): so
// neither competes with the worker's event loop while the campaign pacing is measured, and the API's work on the
// callbacks does not stall the fake's clock, which stamps the receipt times the rate figures are read from (sharing
// one event loop, a burst of callbacks delayed the stamps of the sends behind it and bunched them into one second).
// Prints its addresses as one JSON line; stops when stdin closes.
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
  role: 'api' | 'twilio';
  /** Role `twilio`: the API process's address, where the status callbacks go. */
  apiUrl?: string;
}
const config = JSON.parse(process.argv[2] ?? '{}') as PeerConfig;
const listen = async (fetch: (request: Request) => Response | Promise<Response>) => {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};
const stops: (() => Promise<unknown>)[] = [];
const closing = (server: { close: (done: () => void) => unknown }) => () =>
  new Promise<void>((resolve) => server.close(() => resolve()));

if (config.role === 'twilio') {
  const twilio = await startFakeTwilio({
    statusCallbacks: {
      rewrite: (url) => url.replace(config.publicBaseUrl, config.apiUrl!),
      sign: (url, token, params) =>
        signedWebhook({ publicBaseUrl: config.publicBaseUrl, path: pathAndQuery(url), authToken: token, params }),
    },
  });
  twilio.addAccount(config.accountSid, config.authToken);
  // Receipt times of the messages the fake accepted, for the bench's rate figures.
  const control = await listen(
    new Hono().get('/sent', (c) => c.json(twilio.sent.map((m) => m.dateCreated.getTime()))).fetch,
  );
  stops.push(closing(control.server), () => twilio.close());
  console.log(JSON.stringify({ twilioUrl: twilio.url, controlUrl: control.url }));
} else {
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
  const api = await listen(
    createApp({ env, db: database.db, temporal: temporal.client, log: createLogger('silent') }).fetch,
  );
  stops.push(
    closing(api.server),
    () => temporal.close(),
    () => database.close(),
  );
  console.log(JSON.stringify({ apiUrl: api.url }));
}

process.stdin.resume();
async function stop() {
  for (const s of stops) await s();
  process.exit(0);
}
process.stdin.on('end', () => void stop());
