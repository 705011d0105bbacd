import fs from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import { loadEnv } from '../../src/config/env';
import { EncryptionCodec } from '../../src/temporal/payload-codec';
import { inboundWorkflowId } from '../../src/contract';
import type { ConversationResult } from '../../src/workflows/conversation';
import type { Harness } from './harness';

/** The conversation workflow id an inbound message was routed to. */
export async function conversationOf(h: Harness, messageSid: string): Promise<string> {
  const result = (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as {
    conversationWorkflowId: string;
  };
  return result.conversationWorkflowId;
}

/** The result of the conversation run that finishes next (follows continue-as-new). */
export async function conversationResult(h: Harness, workflowId: string): Promise<ConversationResult> {
  return (await h.client.workflow.getHandle(workflowId).result()) as ConversationResult;
}

export const sentTo = (h: Harness, to: string) => h.twilio.sent.filter((m) => m.to === to);

export const HISTORIES_DIR = path.resolve(import.meta.dirname, '../fixtures/histories');

/**
 * With CAUSEWAY_RECORD_HISTORIES=1, saves the workflow's current-run history as a replay fixture
 * (`npm run fixtures:record`). Replaying them in test/e2e/replay.test.ts catches non-deterministic changes.
 * A committed fixture is never overwritten: it is what workflows already running in production look like. After a
 * versioned change, record under a new name (a `-v2` suffix, say) beside the old one.
 */
export async function recordHistory(h: Harness, workflowId: string, name: string): Promise<void> {
  if (loadEnv().CAUSEWAY_RECORD_HISTORIES !== '1') return;
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  const file = path.join(HISTORIES_DIR, `${name}.json`);
  if (fs.existsSync(file)) {
    console.warn(
      `[fixtures] ${name}.json exists and is kept (committed fixtures are never re-recorded); use a new name`,
    );
    return;
  }
  const json = proto.temporal.api.history.v1.History.toObject(history as proto.temporal.api.history.v1.History, {
    longs: String,
    enums: String,
    bytes: String,
  });
  // Fixtures are stored plain: the harness's key is random, and the replay test decrypts with a key of its own.
  if (h.env.CAUSEWAY_PAYLOAD_KEYS) await decryptPayloads(json, new EncryptionCodec(h.env.CAUSEWAY_PAYLOAD_KEYS));
  fs.writeFileSync(file, JSON.stringify(json));
}

/** Every encrypted payload of a history (as History.toObject writes it, bytes in base64) decrypted in place. */
async function decryptPayloads(node: unknown, codec: EncryptionCodec): Promise<void> {
  if (Array.isArray(node)) {
    for (const item of node) await decryptPayloads(item, codec);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const metadata = o.metadata as Record<string, string> | undefined;
  if (metadata && typeof metadata === 'object' && 'encoding' in metadata) {
    const [plain] = await codec.decode([
      {
        metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        ...(typeof o.data === 'string' ? { data: Buffer.from(o.data, 'base64') } : {}),
      },
    ]);
    o.metadata = Object.fromEntries(
      Object.entries(plain!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    if (plain!.data) o.data = Buffer.from(plain!.data).toString('base64');
    else delete o.data;
    return;
  }
  for (const value of Object.values(o)) await decryptPayloads(value, codec);
}
