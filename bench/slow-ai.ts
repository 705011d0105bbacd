// Issue 25 D: with a model that takes 10 s, how long an operator's takeover and the customer's next message wait to
// be handled by the conversation workflow. The bar (≤ 1 s) is what "the model call does not hold the workflow
// task" means; the baseline is the same takeover with no AI call in flight, measured in the same run.
import { and, eq } from 'drizzle-orm';
import { conversationSnapshotQuery, type ConversationSnapshot } from '../src/contract';
import type { Database } from '../src/db/core/client';
import { conversations, messages } from '../src/db/schema';
import { createUser } from '../src/db/operators/users';
import type { Client } from '@temporalio/client';
import { echoHandler, turn, type ChatRequest, type FakeOpenAi } from '../test/support/fake-openai';
import { newMessageSid, signedWebhook } from '../src/integrations/signed-webhook';
import type { FakeTwilio } from '../test/support/fake-twilio';
import { newCustomer, postInbound, quantile, type Sender } from './drive';
import { figure } from './figures';

export interface SlowAiContext {
  db: Database;
  client: Client;
  tenantId: string;
  apiUrl: string;
  sender: Sender;
  openai: FakeOpenAi;
  /** Where each customer's message is recorded first, as Twilio holds it: the WhatsApp window is open. */
  twilio: FakeTwilio;
  aiDelayMs?: number;
  rounds?: number;
}

const WEBHOOK = '/webhooks/twilio/messages';
const lastUser = (r: ChatRequest) => [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '';

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('slow-ai bench: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function benchSlowAi(ctx: SlowAiContext, print: (line: string) => void) {
  const delay = ctx.aiDelayMs ?? 10_000;
  const rounds = ctx.rounds ?? 3;
  print(`\nslow AI (a model answering in ${delay / 1000} s; ${rounds} rounds):`);
  const { apiKey } = await createUser(ctx.db, {
    tenantId: ctx.tenantId,
    // A supervisor: no department scoping in the way of a bench conversation.
    name: 'Bench Supervisor',
    role: 'SUPERVISOR',
  });
  let inFlight = 0;
  ctx.openai.setHandler(async (request) => {
    if (lastUser(request) !== 'devagar') return echoHandler(request);
    inFlight += 1;
    try {
      await new Promise((r) => setTimeout(r, delay));
      return turn('resposta lenta');
    } finally {
      inFlight -= 1;
    }
  });
  const takeover: number[] = [];
  const baseline: number[] = [];
  const signal: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      // A conversation whose first turn is done (the echo answered), so its workflow and row exist.
      const from = newCustomer();
      await postInbound(ctx.sender, ctx.apiUrl, WEBHOOK, from, {}, ctx.twilio);
      const conversation = await until(async () => {
        const [row] = await ctx.db
          .select({ id: conversations.id, workflowId: conversations.workflowId })
          .from(conversations)
          .innerJoin(messages, eq(messages.conversationId, conversations.id))
          .where(and(eq(messages.fromAddress, from), eq(messages.direction, 'inbound')));
        return row;
      });
      const handle = ctx.client.workflow.getHandle(conversation.workflowId);
      await until(async () => (await handle.query<ConversationSnapshot>(conversationSnapshotQuery)).turns >= 1);

      // Baseline: a takeover and a release with nothing in flight.
      let t0 = performance.now();
      await call(ctx, apiKey, conversation.id, 'takeover');
      baseline.push(performance.now() - t0);
      await call(ctx, apiKey, conversation.id, 'release');

      // The slow turn: the customer writes, the model is called; then a second message and the takeover.
      await postBody(ctx, from, 'devagar');
      await until(() => Promise.resolve(inFlight > 0));
      t0 = performance.now();
      await postBody(ctx, from, 'ainda aí?');
      await until(
        async () => (await handle.query<ConversationSnapshot>(conversationSnapshotQuery)).pendingMessages >= 1,
        delay * 3,
      );
      signal.push(performance.now() - t0);
      t0 = performance.now();
      await call(ctx, apiKey, conversation.id, 'takeover');
      takeover.push(performance.now() - t0);
      await until(() => Promise.resolve(inFlight === 0), delay * 3);
    }
  } finally {
    ctx.openai.setHandler(echoHandler);
  }
  const base = { name: 'takeover, nothing in flight (p50)', value: quantile(baseline, 0.5) };
  figure('slowai', `takeover during a ${delay / 1000} s model call, p50`, quantile(takeover, 0.5), 'ms', base, {
    of: 'value',
    op: '<=',
    limit: 1000,
  });
  figure('slowai', `customer's next message handled during the call, p50`, quantile(signal, 0.5), 'ms', base, {
    of: 'value',
    op: '<=',
    limit: 1000,
  });
}

async function call(ctx: SlowAiContext, key: string, conversationId: string, action: 'takeover' | 'release') {
  const response = await fetch(`${ctx.apiUrl}/api/conversations/${conversationId}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: action === 'takeover' ? JSON.stringify({ force: true }) : '{}',
  });
  await response.text();
  if (response.status !== 200) throw new Error(`${action} answered ${response.status}`);
}

async function postBody(ctx: SlowAiContext, from: string, body: string) {
  // drive.ts posts 'olá'; this group needs its own text to steer the fake model.
  const params = {
    MessageSid: newMessageSid(),
    AccountSid: ctx.sender.accountSid,
    From: from,
    To: `whatsapp:${ctx.sender.phone}`,
    Body: body,
    NumMedia: '0',
  };
  const request = signedWebhook({
    publicBaseUrl: ctx.sender.publicBaseUrl,
    path: WEBHOOK,
    authToken: ctx.sender.authToken,
    params,
  });
  const response = await fetch(`${ctx.apiUrl}${WEBHOOK}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await response.text();
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
}
