import fs from 'node:fs';
import { ENCRYPTED_ENCODING, EncryptionCodec, type PayloadKey } from '../../src/temporal/payload-codec';
import path from 'node:path';
import proto from '@temporalio/proto';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { loadEnv } from '../../src/config/env';
import { inboundWorkflowId } from '../../src/contract';
import type { ConversationResult } from '../../src/workflows/conversation';
import { eq } from 'drizzle-orm';
import { conversations } from '../../src/db/schema';
import { echoHandler, turn, type ChatRequest } from './fake-openai';
import { eventually, type Harness, type TestTenant } from './harness';

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

/** The patch ids whose markers a run's history holds, and how many `TemporalChangeVersion` upserts it has. */
export async function patchMarkers(h: Harness, workflowId: string): Promise<{ ids: string[]; versionUpserts: number }> {
  const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const ids = events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString()) as { id: string }).id] : [];
  });
  const versionUpserts = events.filter(
    (e) =>
      'TemporalChangeVersion' in
      (e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
  ).length;
  return { ids, versionUpserts };
}

/** The input the workflow's current run was started with, decoded (its first event's payloads). */
export async function runInput(h: Harness, workflowId: string): Promise<unknown> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = await decodeArrayFromPayloads(h.client.options.loadedDataConverter, started?.input?.payloads);
  return input;
}

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
  // Fixtures are stored plain, like the committed ones (the replay test has its own key): the harness's random
  // payload key would make them unreadable.
  fs.writeFileSync(file, JSON.stringify(await decryptPayloads(json, h.env.CAUSEWAY_PAYLOAD_KEYS ?? null)));
}

const ENCRYPTED = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

/** Replaces every encrypted payload in a history (as JSON, bytes in base64) by its plain form. */
async function decryptPayloads(node: unknown, keys: PayloadKey[] | null): Promise<unknown> {
  if (!keys || keys.length === 0) return node;
  const codec = new EncryptionCodec(keys);
  const walk = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(walk));
    if (!value || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const metadata = record.metadata as Record<string, string> | undefined;
    if (metadata && metadata.encoding === ENCRYPTED && typeof record.data === 'string') {
      const [plain] = await codec.decode([
        {
          metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(record.data, 'base64'),
        },
      ]);
      return {
        metadata: Object.fromEntries(
          Object.entries(plain!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(plain!.data ?? new Uint8Array()).toString('base64'),
      };
    }
    return Object.fromEntries(await Promise.all(Object.entries(record).map(async ([k, v]) => [k, await walk(v)])));
  };
  return walk(node);
}

const lastUser = (request: ChatRequest) => [...request.messages].reverse().find((m) => m.role === 'user')?.content;

/**
 * The customer asks for a person and the model hands over: `wants_human` without a department, or the transfer
 * tool naming `department`. Resolves with the conversation row once it is HUMAN.
 */
export async function handOffToHuman(
  h: Harness,
  tenant: TestTenant,
  from: string,
  options: { department?: string; media?: boolean } = {},
) {
  const body = `quero falar com uma pessoa ${Math.random().toString(36).slice(2, 8)}`;
  h.openai.setHandler((request) =>
    lastUser(request)?.endsWith(body)
      ? options.department
        ? {
            content: null,
            toolCalls: [
              { name: 'transfer_to_human', arguments: { department: options.department, reason: 'invoice dispute' } },
            ],
          }
        : turn('Vou chamar uma pessoa.', { wants_human: true, intent: 'human_request' })
      : echoHandler(request),
  );
  const { messageSid } = await h.postInbound(tenant, {
    body,
    from,
    ...(options.media ? { media: [{ contentType: 'image/png' }] } : {}),
  });
  const workflowId = await conversationOf(h, messageSid);
  return eventually(
    async () => {
      const [c] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
      return c?.status === 'HUMAN' ? c : null;
    },
    15_000,
    'HUMAN',
  );
}
