import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, type PayloadKey } from './payload-codec';

/** Give this to every bundleWorkflowCode call too: workflow code converts its own failures inside the sandbox. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The one data converter of every client and worker: payloads encrypted with the newest key when keys are
 * configured (null: unencrypted, see resolvePayloadKeys), failure messages and stack traces encoded as payloads.
 */
export function createDataConverter(
  keys: PayloadKey[] | null,
  options: { refusePlaintext?: boolean } = {},
): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    payloadCodecs:
      keys && keys.length > 0
        ? [new EncryptionCodec(keys, { refusePlaintext: options.refusePlaintext ?? false })]
        : options.refusePlaintext
          ? [refuseEverything]
          : [],
  };
}

/** Refusing plaintext without keys would refuse every payload: say so instead of running a worker that runs nothing. */
const refuseEverything = {
  encode: () => Promise.reject(new Error('CAUSEWAY_PLAINTEXT_PAYLOADS=refuse needs CAUSEWAY_PAYLOAD_KEYS')),
  decode: () => Promise.reject(new Error('CAUSEWAY_PLAINTEXT_PAYLOADS=refuse needs CAUSEWAY_PAYLOAD_KEYS')),
};
