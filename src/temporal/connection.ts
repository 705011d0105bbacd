import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { traceClientInterceptor } from '../tracing/interceptors';
import { createDataConverter } from './data-converter';
import type { PayloadKey } from './payload-codec';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/**
 * `payloadKeys`: the keyring every payload is encrypted / decrypted with (null: unencrypted; resolvePayloadKeys
 * decides). Required, so no client is made without deciding. Lazy connection: the API starts even when Temporal is down and answers 503 until it is back, instead of
 * refusing to boot (and Twilio retries what got a 503).
 */
export function createTemporalClient(options: {
  address: string;
  namespace: string;
  payloadKeys: PayloadKey[] | null;
  /** Issue 18 B: refuse unencrypted payloads (env CAUSEWAY_PLAINTEXT_PAYLOADS, `refuse` by default in production). */
  refusePlaintext?: boolean;
}): TemporalClientHandle {
  const connection = Connection.lazy({ address: options.address });
  const client = clientOver(connection, options);
  return { client, connection, close: () => connection.close() };
}

/**
 * A client with the project's data converter and trace interceptor over a given connection: a worker's
 * NativeConnection, for the starts that ask for eager start (the SDK requires the worker's own connection).
 */
export function clientOver(
  connection: ConnectionLike,
  options: { namespace: string; payloadKeys: PayloadKey[] | null; refusePlaintext?: boolean },
): Client {
  return new Client({
    connection,
    namespace: options.namespace,
    dataConverter: createDataConverter(options.payloadKeys, { refusePlaintext: options.refusePlaintext ?? false }),
    interceptors: { workflow: [traceClientInterceptor()] },
  });
}

/** Registers the custom search attributes on any server (dev or cluster); already-present ones are kept. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  const keyword = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, keyword])),
  });
}
