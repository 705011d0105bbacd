import { updateTenant } from '../../src/db/tenants/tenants';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { Worker } from '@temporalio/worker';
import type proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inboundWorkflowId,
  reconcileOnDemandWorkflowId,
  searchAttributes,
  type InboundInput,
  type InboundResult,
} from '../../src/contract';
import { defaultPayloadConverter } from '@temporalio/common';
import { codecAudit, conversations, messages, promises } from '../../src/db/schema';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createLogger } from '../../src/logger';
import { createTemporalClient } from '../../src/temporal/connection';
import { createDataConverter } from '../../src/temporal/data-converter';
import { EncryptionCodec, ENCRYPTED_ENCODING, type PayloadKey } from '../../src/temporal/payload-codec';
import { startInboundWorkflow } from '../../src/temporal/start-inbound';
import { startStatusCallbackWorkflow } from '../../src/temporal/start-status';
import { launchCampaign, targets, useContentTemplates, waitForStatus } from '../support/campaigns';
import { eventually, startHarness, type Harness } from '../support/harness';
import { turn } from '../support/fake-openai';
import { encodingOf, failuresOf, isCodecExempt, payloadsOf, readableWithoutKey } from '../support/payloads';
import { sharedWorkflowBundle } from '../support/workflow-bundle';

// Every log line of the API, the worker and the Temporal SDK in this file, as the JSON pino writes.
const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});
const oldKey: PayloadKey = { id: 'k1', key: randomBytes(32) };
const newKey: PayloadKey = { id: 'k2', key: randomBytes(32) };

let h: Harness;
const workflowBundle = sharedWorkflowBundle();
beforeAll(async () => {
  h = await startHarness(
    {
      MESSAGE_DEBOUNCE: '100ms',
      NPS_WAIT: '0s',
      PROMISE_REMINDER_BEFORE: '2s',
      PROMISE_CHECK_AFTER: '1s',
      CAUSEWAY_PAYLOAD_KEYS: `k1:${oldKey.key.toString('base64')}`,
    },
    {
      statusCallbacks: true,
      log: {
        app: createLogger('debug', { name: 'app', destination: capture }),
        sdk: createLogger('debug', { name: 'temporal-sdk', destination: capture }),
      },
    },
  );
});
afterAll(async () => {
  await h?.close();
});

const digits = (phone: string) => phone.replace(/\D/g, '');
const historyOf = (workflowId: string, runId?: string) => h.client.workflow.getHandle(workflowId, runId).fetchHistory();

/** Every execution this file's worker ran (its own task queue), with its type. */
async function executionsOfThisRun() {
  const found: { workflowId: string; runId: string; type: string }[] = [];
  for await (const e of h.client.workflow.list({ query: `TaskQueue = '${h.env.TEMPORAL_TASK_QUEUE}'` }))
    found.push({ workflowId: e.workflowId, runId: e.runId, type: e.type });
  return found;
}

describe('payload encryption (issue 11, A)', () => {
  it('no history of any workflow type holds a phone number or a message text without the key; with the keys (rotated) every one replays', async () => {
    const tenant = await h.createTestTenant();
    // Issue 23 E (identity before disclosure) has its own tests: this one is about the debt-bearing template.
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const rows = targets(1, { debt: '150,00', dueDate: '2026-12-20', name: 'Mariana Quintela' });
    const phone = rows[0]!.phone;
    const from = `whatsapp:${phone}`;
    const secretText = `minha dívida ${randomBytes(4).toString('hex')} pago amanhã`;
    // A campaign (campaign + pacer), the debtor's reply registering a promise (inbound + conversation + promise).
    await useContentTemplates(h, tenant, ['collection_notice']);
    const c = await launchCampaign(h, tenant, rows, {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
    });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const dueAt = new Date(Date.now() + 3_000).toISOString();
    h.openai.setHandler((request) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [{ name: 'register_promise', arguments: { amount: 150, due_date: dueAt, method: 'pix' } }],
          }
        : turn('resumo'),
    );
    const { messageSid } = await h.postInbound(tenant, { body: secretText, from });
    const [made] = await eventually(
      async () => {
        const rows2 = await h.db.select().from(promises).where(eq(promises.campaignId, c.campaignId));
        return rows2.length === 1 ? rows2 : null;
      },
      20_000,
      'the promise',
    );
    const paid = await h.api('/api/payments', {
      key: supervisor.apiKey,
      body: { phone, amount: 150, externalId: `pay-${phone}` },
    });
    expect(paid.status).toBe(201);
    await eventually(
      async () => (await h.client.workflow.getHandle(made!.workflowId).describe()).status.name === 'COMPLETED',
      30_000,
      'the promise workflow to finish',
    );
    // The debtor's next message reaches the running conversation as a signal (the first one was its run's input).
    h.openai.setHandler(() => turn('certo'));
    const next = await h.postInbound(tenant, { body: `${secretText} de novo`, from });
    const conversationId = (
      (await h.client.workflow.getHandle(inboundWorkflowId(next.messageSid)).result()) as InboundResult
    ).conversationWorkflowId!;
    await eventually(
      async () =>
        (await historyOf(conversationId)).events?.some((e) => e.workflowExecutionSignaledEventAttributes) ?? false,
      20_000,
      'the second message signalled',
    );
    // A status callback handed to Temporal (statusCallback) and an on-demand reconciliation (reconcile).
    const [outbound] = await h.db.select().from(messages).where(eq(messages.toAddress, from));
    await startStatusCallbackWorkflow(
      h.client,
      h.env.TEMPORAL_TASK_QUEUE,
      { tenantId: tenant.tenantId, messageSid: outbound!.providerSid!, status: 'read', errorCode: null },
      { deadlineMs: 5_000 },
    );
    await h.client.workflow.execute('reconcileWorkflow', {
      workflowId: reconcileOnDemandWorkflowId(tenant.slug, randomBytes(4).toString('hex')),
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      args: [{ tenantSlug: tenant.slug, lookbackMs: 3_600_000 }],
      typedSearchAttributes: [{ key: searchAttributes.TENANT, value: tenant.slug }],
    });
    expect(
      ((await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as InboundResult).messageId,
    ).toBeTruthy();

    const executions = await executionsOfThisRun();
    // Every type this test ran (the inbox-drain Schedule may add its own runs: checked like the rest).
    expect([...new Set(executions.map((e) => e.type))]).toEqual(
      expect.arrayContaining([
        'campaignWorkflow',
        'pacerWorkflow',
        'inboundWorkflow',
        'conversationWorkflow',
        'promiseWorkflow',
        'statusCallbackWorkflow',
        'reconcileWorkflow',
      ]),
    );
    const forbidden = [digits(phone), secretText, 'Mariana Quintela', 'Echo: ', tenant.authToken];
    const rotated = createDataConverter([newKey, oldKey]);
    for (const e of executions) {
      const history = await historyOf(e.workflowId, e.runId);
      const found = payloadsOf(history);
      expect(found.length).toBeGreaterThan(0);
      for (const { path, payload } of found) {
        if (!isCodecExempt(path))
          expect(`${e.type} ${path}: ${encodingOf(payload)}`).toBe(`${e.type} ${path}: ${ENCRYPTED_ENCODING}`);
      }
      const readable = readableWithoutKey(history);
      for (const text of forbidden)
        expect(readable.includes(text), `${e.type} ${e.workflowId} readable without the key holds "${text}"`).toBe(
          false,
        );
      // A running conversation's history ends mid-run: replay takes it as it is (the last task is not completed).
      await Worker.runReplayHistory({ workflowBundle, dataConverter: rotated }, history, e.workflowId);
    }

    // Issue 18 B, the attack: a SUPERVISOR of another tenant posts every payload of these histories (inputs,
    // signals, updates, results, failures, memos of the campaign, pacer, inbound, conversation, promise, status and
    // reconcile workflows), plus a live query answer and an update's, to /codec/decode: none comes back in plaintext.
    const conversationRow = await eventually(
      async () =>
        (await h.db.select().from(conversations).where(eq(conversations.tenantId, tenant.tenantId)))[0] ?? null,
      5_000,
      'the conversation row',
    );
    expect(
      (await h.api(`/api/conversations/${conversationRow.id}/takeover`, { key: supervisor.apiKey, body: {} })).status,
    ).toBe(200);
    const queried = await h.client.workflowService.queryWorkflow({
      namespace: h.env.TEMPORAL_NAMESPACE,
      execution: { workflowId: conversationRow.workflowId },
      query: { queryType: 'snapshot' },
    });
    const queryPayloads = (queried.queryResult?.payloads ?? []).map((payload) => ({ path: 'query', payload }));
    expect(queryPayloads.length).toBe(1);
    const tenantPayloads: { type: string; path: string; payload: proto.temporal.api.common.v1.IPayload }[] = [
      ...queryPayloads.map((q) => ({ type: 'conversationWorkflow', ...q })),
    ];
    for (const e of await executionsOfThisRun()) {
      if (e.type === 'inboxDrainWorkflow') continue; // system: no tenant's data, and unmarked
      for (const found of payloadsOf(await historyOf(e.workflowId, e.runId)))
        if (!isCodecExempt(found.path)) tenantPayloads.push({ type: e.type, ...found });
    }
    const paths = tenantPayloads.map((p) => p.path).join(' ');
    for (const kind of ['input', 'signal', 'result', 'acceptedRequest', 'outcome', 'query'])
      expect(paths, `payloads of kind ${kind}`).toContain(kind === 'signal' ? 'Signaled' : kind);
    const asJson = tenantPayloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.payload.data ?? new Uint8Array()).toString('base64'),
    }));
    const decodeAs = async (key: string) => {
      const response = await fetch(`${h.apiUrl}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: asJson }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { payloads: typeof asJson }).payloads;
    };
    const intruderTenant = await h.createTestTenant();
    for (const role of ['SUPERVISOR', 'ADMIN'] as const) {
      const intruder = await h.createOperator(intruderTenant, role);
      const seen = await decodeAs(intruder.apiKey);
      seen.forEach((p, i) => expect(p, `${tenantPayloads[i]!.type} ${tenantPayloads[i]!.path}`).toEqual(asJson[i]));
      const text = seen.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
      for (const secret of [digits(phone), secretText, 'Mariana Quintela']) expect(text).not.toContain(secret);
    }
    // The tenant's own supervisor reads every one of them: each payload carries its tenant's marker.
    const own = await decodeAs(supervisor.apiKey);
    own.forEach((p, i) =>
      expect(
        Buffer.from(p.metadata.encoding!, 'base64').toString(),
        `${tenantPayloads[i]!.type} ${tenantPayloads[i]!.path}`,
      ).not.toBe(ENCRYPTED_ENCODING),
    );
    expect(own.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n')).toContain(secretText);

    // The plaintext is there for whoever holds the key: the inbound input decodes to the customer's message.
    const inbound = await historyOf(inboundWorkflowId(messageSid));
    const input = inbound.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const [plain] = await new EncryptionCodec([newKey, oldKey]).decode([input]);
    expect(JSON.parse(new TextDecoder().decode(plain!.data))).toMatchObject({ from, body: secretText });
    // Without the key the workflow cannot even be replayed: its input is ciphertext.
    await expect(
      Worker.runReplayHistory({ workflowBundle }, inbound as proto.temporal.api.history.v1.History, 'no-key'),
    ).rejects.toThrow();
    // Rotation: a client holding the new key first and the old one after reads results written under the old key.
    const rotatedClient = createTemporalClient({
      address: h.env.TEMPORAL_ADDRESS!,
      namespace: h.env.TEMPORAL_NAMESPACE,
      payloadKeys: [newKey, oldKey],
    });
    try {
      expect(await rotatedClient.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()).toEqual(
        await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result(),
      );
      const newOnly = createTemporalClient({
        address: h.env.TEMPORAL_ADDRESS!,
        namespace: h.env.TEMPORAL_NAMESPACE,
        payloadKeys: [newKey],
      });
      await expect(newOnly.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()).rejects.toThrow(
        /key "k1", which is not in CAUSEWAY_PAYLOAD_KEYS/,
      );
      await newOnly.close();
    } finally {
      await rotatedClient.close();
    }
  });
});

describe('nothing personal in logs or failures (issue 11, C)', () => {
  it('a database failure on a message with a phone number and a body: neither in the logs of API, worker and SDK, nor in the history (decoded)', async () => {
    const tenant = await h.createTestTenant();
    const phone = `+5511${String(900000000 + Math.floor(Math.random() * 99_999_999))}`;
    const from = `whatsapp:${phone}`;
    const messageSid = newMessageSid();
    const marker = `segredo-${randomBytes(4).toString('hex')}`;
    // A NUL the edge would have removed: Postgres refuses the insert (22021), and drizzle's error lists every
    // bound parameter of it (the phone, the body).
    const body = `${marker} devo R$ 900 \u0000 no cartão`;
    const input: InboundInput = {
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      messageSid,
      channel: 'whatsapp',
      from,
      to: tenant.address,
      body,
      media: [],
      profileName: 'Cliente Secreto',
      originalRepliedMessageSid: null,
      receivedAt: new Date().toISOString(),
      trace: newRootTrace(),
    };
    const before = logLines.length;
    expect(await startInboundWorkflow(h.client, h.env.TEMPORAL_TASK_QUEUE, input)).toBe('started');
    const outcome = (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as InboundResult;
    expect(outcome).toMatchObject({ messageId: null, failed: { stage: 'record', failureType: 'DatabaseRejected' } });

    // The failure was logged (the SDK's "Activity failed" warning), by its SQLSTATE only.
    const logged = logLines.slice(before).join('');
    expect(logged).toMatch(
      /Activity failed.*database rejected the statement \(22021\)|database rejected the statement \(22021\).*Activity failed/,
    );
    for (const text of [digits(phone), marker, 'Cliente Secreto', 'Failed query', 'params:'])
      expect(logged.includes(text), `logs hold "${text}"`).toBe(false);

    // In the history: nothing readable without the key, and the decoded failures carry no parameter either.
    const history = await historyOf(inboundWorkflowId(messageSid));
    const readable = readableWithoutKey(history);
    for (const text of [digits(phone), marker, 'Failed query']) expect(readable.includes(text)).toBe(false);
    const codec = new EncryptionCodec([oldKey]);
    const failures = failuresOf(history);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      const attributes = failure.encodedAttributes
        ? new TextDecoder().decode((await codec.decode([failure.encodedAttributes]))[0]!.data)
        : '';
      const text = `${failure.message} ${failure.stackTrace} ${attributes}`;
      expect(attributes || failure.message).toBeTruthy();
      for (const forbidden of [digits(phone), marker, 'Failed query', 'params:'])
        expect(text.includes(forbidden), `failure holds "${forbidden}"`).toBe(false);
    }
    // The failure message is encrypted too (encodeCommonAttributes): only "Encoded failure" is readable.
    expect(failures.some((f) => f.message === 'Encoded failure')).toBe(true);
  });

  it('the API logs a failed request without the parameters of the failed query', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const phone = `+5511${String(900000000 + Math.floor(Math.random() * 99_999_999))}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'oi', from: `whatsapp:${phone}` });
    await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result();
    const before = logLines.length;
    // A NUL in the payment's external id: Postgres refuses the insert (22021) and the error handler logs it.
    const marker = `pay-${randomBytes(4).toString('hex')}`;
    const response = await h.api('/api/payments', {
      key: supervisor.apiKey,
      body: { phone, amount: 10, externalId: `${marker}\u0000` },
    });
    expect(response.status).toBe(500);
    const logged = logLines.slice(before).join('');
    expect(logged).toMatch(/"msg":"unhandled error"/);
    expect(logged).toContain('database error 22021');
    for (const text of [digits(phone), marker, 'Failed query', 'params:', tenant.tenantId])
      expect(logged.includes(text), `API logs hold "${text}"`).toBe(false);
  });
});

describe('codec endpoint protocol (issue 11, B)', () => {
  const ui = 'http://localhost:8233';
  const post = (
    path: string,
    init: { key?: string; origin?: string; namespace?: string; body: unknown; contentType?: string },
  ) =>
    fetch(`${h.apiUrl}/codec/${path}`, {
      method: 'POST',
      headers: {
        'content-type': init.contentType ?? 'application/json',
        'x-namespace': init.namespace ?? 'default',
        ...(init.origin ? { origin: init.origin } : {}),
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      },
      body: JSON.stringify(init.body),
    });
  const json = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });

  it('answers the preflight for the UI origin only, with credentials allowed', async () => {
    const preflight = (origin: string) =>
      fetch(`${h.apiUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const ok = await preflight(ui);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ui);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it("401 without identity, 403 for an agent, round trip for a supervisor; another tenant's input stays encrypted; all audited", async () => {
    const tenant = await h.createTestTenant();
    const other = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const agent = await h.createOperator(tenant, 'AGENT');
    const codec = new EncryptionCodec([oldKey]);
    const mine = defaultPayloadConverter.toPayload({ tenantId: tenant.tenantId, body: 'meu segredo' });
    const theirs = defaultPayloadConverter.toPayload({ tenantId: other.tenantId, body: 'segredo de outro' });
    const sealed = await codec.encode([mine, theirs]);
    const payloads = [...sealed, mine].map(json);

    const anonymous = await post('decode', { origin: ui, body: { payloads } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(ui);
    expect((await post('decode', { key: agent.apiKey, body: { payloads } })).status).toBe(403);
    expect((await post('decode', { key: supervisor.apiKey, namespace: 'elsewhere', body: { payloads } })).status).toBe(
      403,
    );
    expect(
      (await post('decode', { key: supervisor.apiKey, contentType: 'text/plain', body: { payloads } })).status,
    ).toBe(415);

    const decoded = await post('decode', { key: supervisor.apiKey, origin: ui, body: { payloads } });
    expect(decoded.status).toBe(200);
    const out = ((await decoded.json()) as { payloads: ReturnType<typeof json>[] }).payloads;
    expect(out[0]).toEqual(json(mine));
    expect(out[1]).toEqual(payloads[1]);
    expect(out[2]).toEqual(json(mine));
    const encoded = await post('encode', { key: supervisor.apiKey, body: { payloads: [json(mine)] } });
    const [again] = ((await encoded.json()) as { payloads: ReturnType<typeof json>[] }).payloads;
    expect(Buffer.from(again!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);

    const audit = await h.db.select().from(codecAudit).where(eq(codecAudit.tenantId, tenant.tenantId));
    expect(
      audit.map((r) => [r.userId === supervisor.id ? 'supervisor' : 'agent', r.action, r.outcome, r.via]).sort(),
    ).toEqual(
      [
        ['agent', 'decode', 'forbidden', 'api_key'],
        ['supervisor', 'decode', 'allowed', 'api_key'],
        ['supervisor', 'decode', 'forbidden', 'api_key'],
        ['supervisor', 'encode', 'allowed', 'api_key'],
      ].sort(),
    );
    expect(audit.find((r) => r.outcome === 'allowed' && r.action === 'decode')).toMatchObject({
      payloads: 3,
      encrypted: 2,
      withheld: 1,
      keyIds: ['k1'],
      origin: ui,
    });
  });
});
