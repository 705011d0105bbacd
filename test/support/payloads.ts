import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import type proto from '@temporalio/proto';

export interface FoundPayload {
  /** Where in the history it sits, e.g. `events.3.workflowExecutionStartedEventAttributes.input.payloads.0`. */
  path: string;
  payload: Payload;
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** Every Payload in a history (inputs, results, signals, failures' encoded attributes, memo, headers, search attributes). */
export function payloadsOf(value: unknown, path = ''): FoundPayload[] {
  if (!value || typeof value !== 'object' || isBytes(value)) return [];
  const record = value as Record<string, unknown>;
  if (isBytes(record.data) && record.metadata && typeof record.metadata === 'object')
    return [{ path, payload: record }];
  return Object.entries(record).flatMap(([key, child]) => payloadsOf(child, path ? `${path}.${key}` : key));
}

export const encodingOf = (payload: Payload) =>
  new TextDecoder().decode(payload.metadata?.[METADATA_ENCODING_KEY] ?? new Uint8Array());

/**
 * Not run through codecs, by the SDK's design: search attributes (indexed by the server), headers (the trace
 * context) and the markers `patched()` writes (the patch id only, read back by the SDK core).
 */
// Written by the SDK's core, not through the data converter: search attributes, headers, a patch marker's id, and
// a local activity marker's `data` (its seq, attempt, activity type and times; the result is under `result`, which
// the codec encrypts). readableWithoutKey still checks that none of them holds a phone number or a text.
export const isCodecExempt = (path: string) =>
  /(^|\.)(searchAttributes|header)\./.test(path) ||
  /markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(path);

/**
 * What someone without the key can read of a history: its JSON (failure messages, summaries) and every payload's
 * bytes as text.
 */
export function readableWithoutKey(history: proto.temporal.api.history.v1.IHistory): string {
  const text = JSON.stringify(history);
  const bytes = payloadsOf(history).map(
    ({ payload }) =>
      `${new TextDecoder().decode(payload.data ?? new Uint8Array())}\n${Object.values(payload.metadata ?? {})
        .map((v) => new TextDecoder().decode(v))
        .join(' ')}`,
  );
  return [text, ...bytes].join('\n');
}

/** The `failure` objects of a history (activity and workflow failures, with their causes). */
export function failuresOf(value: unknown): proto.temporal.api.failure.v1.IFailure[] {
  if (!value || typeof value !== 'object' || isBytes(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
    key === 'failure' && child && typeof child === 'object'
      ? [child as proto.temporal.api.failure.v1.IFailure, ...failuresOf(child)]
      : failuresOf(child),
  );
}
