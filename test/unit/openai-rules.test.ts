import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiError, aiTurnOutputSchema } from '../../src/integrations/ai';
import { createOpenAiResponder, TOOLS, TURN_JSON_SCHEMA } from '../../src/integrations/openai-responder';
import { toStrictSchema } from '../../src/integrations/strict-schema';
import { safetyIdentifier } from '../../src/secrets/safety-identifier';
import { parseKeyring } from '../../src/secrets/keyring';
import { echoHandler, refusal, startFakeOpenAi, truncated, turn, type FakeOpenAi } from '../support/fake-openai';
import { STRICT_KEYWORDS, strictSchemaProblems } from '../support/openai-strict';

let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake?.close());

const responder = () =>
  createOpenAiResponder({
    apiKey: 'sk-test',
    baseURL: fake.url,
    model: 'gpt-4o-mini',
    timeoutMs: 5_000,
    maxCompletionTokens: 900,
  });
const request = {
  system: 'You are a test.',
  history: [{ role: 'user' as const, content: 'oi' }],
  correlationId: 'c-1',
  safetyIdentifier: 'cw-abc',
  departments: ['support', 'billing'],
};

/** Every keyword used anywhere in a schema (property names excluded). */
function keywords(node: unknown, into = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return into;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    into.add(key);
    if (key === 'properties' || key === '$defs')
      for (const child of Object.values(value as object)) keywords(child, into);
    else if (key === 'items') keywords(value, into);
    else if (key === 'anyOf') for (const child of value as unknown[]) keywords(child, into);
  }
  return into;
}

describe('the request stays inside OpenAI strict subset (A)', () => {
  it('the turn schema uses only documented strict keywords and lists every property as required', () => {
    expect([...keywords(TURN_JSON_SCHEMA)].filter((k) => !STRICT_KEYWORDS.has(k))).toEqual([]);
    expect(strictSchemaProblems(TURN_JSON_SCHEMA)).toEqual([]);
    for (const tool of TOOLS) {
      if (tool.type !== 'function') continue;
      expect(tool.function.strict).toBe(true);
      expect(strictSchemaProblems(tool.function.parameters), tool.function.name).toEqual([]);
    }
  });

  it('the limits dropped from the schema are still enforced by our validation of the answer', () => {
    const raw = z.toJSONSchema(aiTurnOutputSchema, { target: 'draft-7' }) as Record<string, unknown>;
    expect(JSON.stringify(raw)).toContain('maxLength');
    expect(JSON.stringify(toStrictSchema(raw))).not.toContain('maxLength');
    const valid = {
      reply: 'x',
      intent: 'i',
      sentiment: 'neutral',
      urgency: 'low',
      confidence: 0.5,
      wants_human: false,
    };
    expect(aiTurnOutputSchema.safeParse({ ...valid, reply: 'x'.repeat(1601) }).success).toBe(false);
    expect(aiTurnOutputSchema.safeParse({ ...valid, intent: '' }).success).toBe(false);
  });

  it('the fake rejects what OpenAI rejects: unsupported keywords, missing required, additionalProperties, loose tools', async () => {
    const raw = z.toJSONSchema(aiTurnOutputSchema, { target: 'draft-7' });
    const send = (body: Record<string, unknown>) =>
      fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'oi' }], ...body }),
      });
    const strictFormat = (schema: unknown) => ({
      response_format: { type: 'json_schema', json_schema: { name: 'turn', strict: true, schema } },
    });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [strictFormat(raw), 'response_format', /'\$schema' is not permitted|'minLength' is not permitted/],
      [strictFormat({ ...TURN_JSON_SCHEMA, required: ['reply'] }), 'response_format', /'required' is required/],
      [
        strictFormat({ ...TURN_JSON_SCHEMA, additionalProperties: undefined }),
        'response_format',
        /'additionalProperties' is required/,
      ],
      [
        {
          tools: [
            {
              type: 'function',
              function: {
                name: 'f',
                strict: true,
                parameters: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
              },
            },
          ],
        },
        'tools[0].function.parameters',
        /additionalProperties/,
      ],
      [{ parallel_tool_calls: false }, 'parallel_tool_calls', /only allowed when 'tools'/],
      [{ safety_identifier: 'x'.repeat(65) }, 'safety_identifier', /maximum length 64/],
    ];
    for (const [body, param, message] of cases) {
      const response = await send(body);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: Record<string, unknown> };
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toBe(param);
      expect(error.message).toMatch(message);
    }
  });

  it('the real request passes the faithful fake, with parallel_tool_calls false, safety_identifier, max_completion_tokens and no user', async () => {
    fake.setHandler(echoHandler);
    const before = fake.requests.length;
    const rejectedBefore = fake.rejected.length;
    const answer = await responder().respond(request);
    expect(answer.output?.reply).toBe('Echo: oi');
    expect(fake.rejected.length).toBe(rejectedBefore);
    const sent = fake.requests[before]!;
    expect(sent.parallel_tool_calls).toBe(false);
    expect(sent.safety_identifier).toBe('cw-abc');
    expect(sent.max_completion_tokens).toBe(900);
    expect(sent).not.toHaveProperty('user');
    // Recorded for a reviewer to hold against OpenAI's reference.
    const recorded = JSON.parse(fs.readFileSync('test-results/openai-request.json', 'utf8')) as {
      body: Record<string, unknown>;
    };
    expect(recorded.body).toHaveProperty('response_format');
    expect(recorded.body.parallel_tool_calls).toBe(false);
  });

  it('a summary passes too: no tools, so no parallel_tool_calls', async () => {
    fake.setHandler(echoHandler);
    const before = fake.requests.length;
    const summary = await responder().summarize({
      previousSummary: null,
      messages: request.history,
      correlationId: 's',
      safetyIdentifier: 'cw-abc',
    });
    expect(summary.summary).toMatch(/Summary/);
    expect(fake.requests[before]).not.toHaveProperty('parallel_tool_calls');
  });
});

describe('answers OpenAI documents (A)', () => {
  it('a refusal is read from message.refusal and classified, not parsed as unusable output', async () => {
    fake.setHandler(() => refusal());
    await expect(responder().respond(request)).rejects.toMatchObject({ name: 'AiError', kind: 'refusal' });
  });

  it("finish_reason 'length' is a truncation, not a JSON error", async () => {
    fake.setHandler(() => truncated());
    await expect(responder().respond(request)).rejects.toMatchObject({ name: 'AiError', kind: 'truncated' });
  });

  it('two parallel tool calls: the handoff is acted on whatever the order, the other reported as ignored', async () => {
    fake.setHandler(() => ({
      content: null,
      toolCalls: [
        { name: 'close_conversation', arguments: { reason: 'resolvido' } },
        { name: 'transfer_to_human', arguments: { department: 'billing', reason: 'contestação' } },
      ],
    }));
    const answer = await responder().respond(request);
    expect(answer.action).toEqual({ type: 'handoff', department: 'billing', reason: 'contestação' });
    expect(answer.ignoredToolCalls).toEqual(['close_conversation']);
  });

  it('a single tool call with a structured turn still works', async () => {
    fake.setHandler(() => ({
      ...turn('Certo'),
      toolCalls: [{ name: 'close_conversation', arguments: { reason: 'ok' } }],
    }));
    const answer = await responder().respond(request);
    expect(answer.action).toEqual({ type: 'close', reason: 'ok' });
    expect(answer.ignoredToolCalls).toBeUndefined();
  });

  it('an API error in OpenAI shape is classified by status (400 permanent)', async () => {
    fake.setHandler(() => ({
      status: 400,
      body: { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } },
    }));
    const error = await responder()
      .respond(request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AiError);
    expect((error as AiError).kind).toBe('permanent');
  });
});

describe('safety_identifier (A)', () => {
  const key = () => `${randomBytes(32).toString('base64')}`;
  const ring = parseKeyring(`k1:${key()}`);
  it('is stable per contact, differs between contacts and tenants, fits 64 characters and carries no phone', () => {
    const a = safetyIdentifier('tenant-1', 'contact-a', ring);
    expect(safetyIdentifier('tenant-1', 'contact-a', ring)).toBe(a);
    expect(safetyIdentifier('tenant-1', 'contact-b', ring)).not.toBe(a);
    expect(safetyIdentifier('tenant-2', 'contact-a', ring)).not.toBe(a);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).toMatch(/^cw-[0-9a-f]{40}$/);
    expect(a).not.toContain('contact-a');
  });
  it('survives adding a key for rotation (derived from the oldest key) and differs under another keyring', () => {
    const old = `k1:${key()}`;
    const before = safetyIdentifier('t', 'c', parseKeyring(old));
    expect(safetyIdentifier('t', 'c', parseKeyring(`k2:${key()},${old}`))).toBe(before);
    expect(safetyIdentifier('t', 'c', parseKeyring(`k1:${key()}`))).not.toBe(before);
  });
});
