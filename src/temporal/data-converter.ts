import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, type PayloadKey } from './payload-codec';

/** Give this to every bundleWorkflowCode call too: workflow code converts its own failures inside the sandbox. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The one data converter of every client and worker: payloads encrypted with the newest key when keys are
 * configured (null: unencrypted, see resolvePayloadKeys), failure messages and stack traces encoded as payloads.
 */
export function createDataConverter(keys: PayloadKey[] | null): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    payloadCodecs: keys && keys.length > 0 ? [new EncryptionCodec(keys)] : [],
  };
}
