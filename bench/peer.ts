// Child process of `npm run bench`: the no-op pipeline's worker and/or its webhook and the bare routes (bench/noop),
// in a process of their own as `npm start` runs Causeway's worker and API. Started with fork(); sends
// `{ type: 'ready', url }` when listening, stops when the bench disconnects.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { NativeConnection } from '@temporalio/worker';
import { createTemporalClient } from '../src/temporal/connection';
import { parsePayloadKeys } from '../src/temporal/payload-codec';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { createLogger } from '../src/logger';
import { noopRoutes, startNoopWorker } from './noop/pipeline';

export interface PeerConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** CAUSEWAY_PAYLOAD_KEYS format. */
  payloadKeys: string;
  twilioUrl: string;
  authToken: string;
  publicBaseUrl: string;
  worker: boolean;
  api: boolean;
}
const config = JSON.parse(process.argv[2] ?? '{}') as PeerConfig;
installTemporalRuntime(createLogger('error'), 'ERROR');
const payloadKeys = parsePayloadKeys(config.payloadKeys);
const temporal = createTemporalClient({ address: config.temporalAddress, namespace: config.namespace, payloadKeys });
const stops: (() => Promise<unknown>)[] = [];
if (config.worker) {
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await startNoopWorker({ ...config, connection, client: temporal.client, payloadKeys });
  stops.push(
    () => worker.stop(),
    () => connection.close(),
  );
}
let url = '';
if (config.api) {
  const app = noopRoutes({ ...config, client: temporal.client, startQueue: `${config.taskQueue}-unpolled` });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stops.unshift(() => new Promise((resolve) => server.close(resolve)));
}
process.send?.({ type: 'ready', url });
process.once('disconnect', () => {
  void (async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await temporal.close();
    process.exit(0);
  })();
});
