import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType, type MediaItem, type TraceContext } from '../contract';
import { MEDIA_NOTE, messageTextForAi } from '../domain/media';
import type { Database } from '../db/core/client';
import { loadSummaryContext, messagesToFold, recordSummary } from '../db/conversations/summary';
import { formatDate, formatMoney } from '../domain/money';
import { safeError } from '../domain/safe-error';
import {
  confirmIdentity,
  loadTurnContext,
  raiseAiFailureAlert as raiseAiFailureAlertRows,
  recordAiResult,
  type AiResultRow,
  type TurnContext,
} from '../db/conversations/turn';
import { alertsForTurn } from '../domain/alerts';
import { promiseRefusal } from '../domain/promise-policy';
import { raiseAlertOnce } from '../db/events/alerts';
import { recordEvents } from '../db/events/events';
import {
  checkIdentity,
  expectedIdentity,
  identityPrompt,
  identityReminder,
  mentionsDebt,
  type IdentityResult,
} from '../domain/identity';
import type { IdentityCheck } from '../contract/statuses';
import { HISTORY_WINDOW } from '../domain/prompts';
import { childSpan } from '../domain/trace';
import { AiError, type AiChatMessage } from '../integrations/ai';
import { safetyIdentifier } from '../secrets/safety-identifier';
import type { ActivityDeps } from './deps';
import { readBurstMedia } from './media-reading';
import { isMatch, searchPassages, type KbHit } from '../db/knowledge/kb';
import { KB_PASSAGES_PER_TURN } from '../domain/kb';
import type { AiAction, AiTurnOutput } from '../contract/ai';
import type { GenerateReplyInput, GeneratedReply, AiFailureAlertInput, SummarizeInput } from '../contract/pipeline';
export type { GenerateReplyInput, GeneratedReply, AiFailureAlertInput, SummarizeInput } from '../contract/pipeline';

// D: attachments are described (`[image]`, `[audio 0:12]`), so a media-only message reaches the AI too.
const toChat = (rows: { direction: 'inbound' | 'outbound'; body: string; media?: MediaItem[] }[]): AiChatMessage[] =>
  rows.map((m) => ({ role: m.direction === 'inbound' ? 'user' : 'assistant', content: messageTextForAi(m) }));

const addUsage = (
  a: { promptTokens: number; completionTokens: number } | null | undefined,
  b: { promptTokens: number; completionTokens: number } | null | undefined,
) =>
  a || b
    ? {
        promptTokens: (a?.promptTokens ?? 0) + (b?.promptTokens ?? 0),
        completionTokens: (a?.completionTokens ?? 0) + (b?.completionTokens ?? 0),
      }
    : null;

async function conversationContext(db: Database, conversationId: string) {
  const row = await loadSummaryContext(db, conversationId);
  if (!row)
    throw ApplicationFailure.create({
      type: FailureType.NotFound,
      message: 'conversation not found',
      nonRetryable: true,
    });
  return row;
}

/**
 * The campaign message the customer may be answering (sent to them within the causal window), so the assistant
 * knows what it said and, for collections, the amount and due date; a collection reply uses the collections prompt.
 * Issue 23 E: before the contact confirmed their identity the note carries no debt detail at all (not the message,
 * not the campaign's name, which may name the creditor): the model cannot leak what it was never given.
 */
function campaignNote(row: NonNullable<TurnContext['campaign']>, locale: string, identity: IdentityGate) {
  if (identity.withheld) {
    const lines = [
      'The customer may be answering a message we sent them about their account.',
      `IDENTITY NOT CONFIRMED: do not mention, confirm or deny any amount, creditor, due date, contract, document or other debt detail, even if the customer asks or states one. Ask them to confirm their identity by sending ${identityPrompt(identity.method, locale)}; do not say what the expected answer is.`,
    ];
    if (identity.result === 'mismatch')
      lines.push('Their last answer did not match our records: say so kindly and ask once more.');
    if (identity.result === 'no_data')
      lines.push('We cannot check their identity here: offer to transfer them to a human agent.');
    return { kind: row.kind, note: lines.join('\n') };
  }
  const lines = [`The customer may be answering this message we sent them (campaign "${row.name}"): «${row.body}»`];
  if (row.debt !== null)
    lines.push(
      `Open amount: ${formatMoney(row.debt, locale)}${row.due ? `, due ${formatDate(row.due, locale)}` : ''}. When the customer commits to pay, call register_promise with the amount, date and method.`,
    );
  if (identity.result === 'confirmed')
    lines.push('The customer has just confirmed their identity: thank them briefly.');
  return { kind: row.kind, note: lines.join('\n') };
}

/** The burst's own words (history is newest first, the burst is what came after our last message). */
function burstText(context: TurnContext): string {
  const outbound = context.history.findIndex((m) => m.direction === 'outbound');
  return context.history
    .slice(0, outbound === -1 ? undefined : outbound)
    .reverse()
    .map((m) => messageTextForAi(m))
    .join('\n')
    .trim();
}

async function retrieveKnowledge(db: Database, tenantId: string, context: TurnContext) {
  const query = burstText(context).slice(0, 1000);
  if (!query) return null;
  const hits = await searchPassages(db, { tenantId, question: query, limit: KB_PASSAGES_PER_TURN });
  return { query, hits: hits.filter(isMatch) };
}

function knowledgeNote(hits: KbHit[]): string {
  if (hits.length === 0)
    return 'The knowledge base has nothing on this question: do not invent facts about products, prices, plans or policies; offer a human (wants_human) when the customer needs them. Set sources to [].';
  return [
    'Knowledge base passages (the only facts about products, plans, prices and policies you may state). When you use one, put its article id (in brackets) in sources; otherwise set sources to [].',
    ...hits.map((h) => `[${h.slug}] ${h.content}`),
  ].join('\n');
}

/** What ai_results keeps of retrieval: the question, the passages given, whether it was a gap, the articles cited. */
function knowledgeRecord(k: { query: string; hits: KbHit[] }, sources: string[] | undefined) {
  const given = new Set(k.hits.map((h) => h.slug));
  return {
    query: k.query,
    passages: k.hits.map((h) => ({ id: h.passageId, article: h.slug, score: Math.round(h.score * 1000) / 1000 })),
    gap: k.hits.length === 0,
    // Only articles that were given count as cited: a model naming another is not trusted.
    cited: [...new Set((sources ?? []).filter((s) => given.has(s)))],
  };
}

/** The structured turn of an identity request that replaced a tool-only answer (a deferred promise). */
const IDENTITY_TURN: AiTurnOutput = {
  reply: '',
  intent: 'identity_check',
  sentiment: 'neutral',
  urgency: 'low',
  confidence: 1,
  wants_human: false,
};

interface IdentityGate {
  /** Debt details are kept from the prompt and the reply (check on, campaign context, not confirmed). */
  withheld: boolean;
  method: Exclude<IdentityCheck, 'off'>;
  /** This turn's check (null: no check was needed, e.g. confirmed earlier, check off, no campaign). */
  result: IdentityResult | null;
}

/**
 * Issue 23 E, a deterministic pre-turn check: under the tenant's identity check, a collection context is disclosed
 * only once the burst's own messages carry the right answer (last CPF digits or birth date of the target).
 */
function identityGate(context: TurnContext): IdentityGate {
  const method = context.identityCheck === 'off' ? 'cpf-last-digits' : context.identityCheck;
  const camp = context.campaign;
  const applies =
    context.identityCheck !== 'off' && camp !== null && (camp.kind === 'collection' || camp.debt !== null);
  if (!applies || context.identityConfirmedAt) return { withheld: false, method, result: null };
  // The customer's newest messages (history is newest first): everything before our last outbound one.
  const outbound = context.history.findIndex((m) => m.direction === 'outbound');
  const burst = context.history.slice(0, outbound === -1 ? undefined : outbound).map((m) => m.body);
  const result = checkIdentity(method, expectedIdentity(method, camp), burst.join('\n'));
  return { withheld: result !== 'confirmed', method, result };
}

export function createAiActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function recordFailure(base: AiResultRow, error: unknown, trace: TraceContext): Promise<never> {
    const aiError =
      error instanceof AiError ? error : new AiError(`AI responder failed (${safeError(error).message})`, 'retryable');
    await recordAiResult(
      db,
      {
        ...base,
        traceId: base.traceId ?? trace.traceId,
        status: 'failed',
        error: `${aiError.kind}: ${aiError.message}`,
      },
      () => [],
      () => [
        {
          trace,
          type: 'ai.failed',
          level: 'warn',
          tenantId: base.tenantId,
          conversationId: base.conversationId,
          payload: { kind: aiError.kind, attempt: base.attempt },
        },
      ],
    );
    const type = {
      permanent: FailureType.AiPermanent,
      unusable_output: FailureType.AiUnusableOutput,
      retryable: FailureType.AiRetryable,
      refusal: FailureType.AiRefused,
      truncated: FailureType.AiTruncated,
    }[aiError.kind];
    throw ApplicationFailure.create({
      type,
      message: aiError.message,
      // A refusal or a truncation would come back the same on a retry: the fallback goes out at once.
      nonRetryable: aiError.kind === 'permanent' || aiError.kind === 'refusal' || aiError.kind === 'truncated',
      cause: aiError,
    });
  }

  const budgetConfig = deps.config.aiBudget ?? {
    maxTurnsPerHour: 30,
    maxTokensPerDay: 5_000_000,
    promiseMaxDaysAhead: 60,
  };

  /** Which limit this turn would pass, if any (the tenant's own limits first, else the deployment's). */
  function overBudget(budget: TurnContext['budget']): 'turns_per_hour' | 'tokens_per_day' | null {
    if (budget.turnsLastHour >= (budget.maxTurnsPerHour ?? budgetConfig.maxTurnsPerHour)) return 'turns_per_hour';
    if (budget.tokensLastDay >= (budget.maxTokensPerDay ?? budgetConfig.maxTokensPerDay)) return 'tokens_per_day';
    return null;
  }

  /**
   * Issue 18 E: over budget, the turn makes no AI call; the conversation goes to a human (the workflow's handoff
   * path: the handoff notice, HUMAN, the handoff alert) with one `ai_budget_exceeded` alert per conversation (per
   * tenant for the daily tokens). No ai_results row: no call was made, so there is no result to point at
   * (aiResultId is read only for promises and drafts, which this answer never carries). A re-run answers the same.
   */
  async function budgetHandoff(
    input: GenerateReplyInput,
    department: string,
    limit: 'turns_per_hour' | 'tokens_per_day',
    span: TraceContext,
  ): Promise<GeneratedReply> {
    const raised = await raiseAlertOnce(
      db,
      {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        type: 'ai_budget_exceeded',
        severity: 'high',
        message:
          limit === 'turns_per_hour'
            ? 'The conversation reached its AI turn limit for the hour; handed to a human'
            : 'The tenant reached its AI token limit for the day; conversations go to humans',
        payload: { limit, correlationId: input.correlationId },
      },
      limit === 'tokens_per_day',
    );
    await recordEvents(db, [
      {
        trace: span,
        type: 'ai.budget_exceeded',
        level: 'warn',
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        payload: { limit, alertRaised: raised },
      },
    ]);
    return {
      aiResultId: '',
      reply: null,
      action: { type: 'handoff', department, reason: 'ai_budget_exceeded' },
      output: null,
    };
  }

  return {
    /** G: the fallback went out because the AI failed after its retries; supervisors see it (one alert per turn). */
    async raiseAiFailureAlert(input: AiFailureAlertInput): Promise<void> {
      await raiseAiFailureAlertRows(db, input);
    },

    /**
     * One AI turn: attaches the burst to the conversation, builds the prompt from the active prompt version,
     * the conversation summary and recent history, and stores the result (and any alerts) in one transaction.
     */
    async generateReply(input: GenerateReplyInput): Promise<GeneratedReply> {
      const span = childSpan(input.trace);
      const attempt = Context.current().info.attempt;
      // One statement: attach the burst, the turn event (first attempt), and everything the prompt needs.
      const context = await loadTurnContext(db, {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        messageIds: input.messageIds,
        correlationId: input.correlationId,
        historyWindow: HISTORY_WINDOW,
        turnEvent:
          attempt === 1
            ? {
                trace: input.trace,
                type: 'conversation.turn',
                tenantId: input.tenantId,
                conversationId: input.conversationId,
                payload: { messages: input.messageIds.length },
              }
            : null,
      });
      if (!context)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: 'conversation not found',
          nonRetryable: true,
        });
      if (context.prior) {
        // Answered already (a re-run of this local activity, or a retry after the result was stored): the same answer.
        const { action, ...output } = context.prior.output as { action: AiAction } & Partial<AiTurnOutput>;
        return {
          aiResultId: context.prior.id,
          reply: output.reply ?? null,
          action,
          output: output.intent !== undefined ? (output as AiTurnOutput) : null,
          ...(context.hybrid ? { hybrid: true } : {}),
        };
      }
      const over = overBudget(context.budget);
      if (over) return budgetHandoff(input, context.defaultDepartment, over, span);
      const { prompt } = context;
      // Issue 23 C: the burst's voice notes and images as text, before the prompt is built.
      const mediaRead = await readBurstMedia(deps, input.tenantId, context, context.tenantLocale);
      const identity = identityGate(context);
      if (identity.result === 'confirmed') await confirmIdentity(db, input.conversationId);
      const campaign = context.campaign && campaignNote(context.campaign, context.tenantLocale, identity);
      // Issue 23 D: the burst's question against the tenant's knowledge base; the top passages go to the prompt.
      const knowledge = context.hasKnowledge ? await retrieveKnowledge(db, input.tenantId, context) : null;
      if (!prompt)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `no active prompt for assistant type ${context.assistantType}`,
          nonRetryable: true,
        });
      const system = [
        prompt.content,
        campaign?.note,
        context.summary ? `Summary of the earlier conversation:\n${context.summary}` : null,
        context.history.some((m) => m.media.length > 0) ? MEDIA_NOTE : null,
        knowledge ? knowledgeNote(knowledge.hits) : null,
      ]
        .filter(Boolean)
        .join('\n\n');

      const started = performance.now();
      const base = {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        correlationId: input.correlationId,
        traceId: input.trace.traceId,
        provider: deps.ai.provider,
        model: deps.ai.model,
        attempt,
        promptVersionId: prompt.versionId,
        inputMessageIds: input.messageIds,
        latencyMs: 0,
      };
      let response;
      try {
        response = await deps.ai.respond({
          system,
          history: toChat([...context.history].reverse()),
          correlationId: input.correlationId,
          departments: context.departments,
          safetyIdentifier: safetyIdentifier(input.tenantId, context.contactId),
        });
      } catch (error) {
        return recordFailure({ ...base, latencyMs: Math.round(performance.now() - started) }, error, span);
      }
      // Issue 18 E: a promise outside the policy is refused; the model reads the refusal as the tool's answer and
      // answers again once (counted in this turn's tokens). Refused twice: a human takes over, not silence.
      if (response.action.type === 'promise') {
        const refusal = promiseRefusal(response.action, {
          debtCents: context.budget.debtCents,
          maxDaysAhead: context.budget.promiseMaxDaysAhead ?? budgetConfig.promiseMaxDaysAhead,
          now: deps.clock(),
        });
        if (refusal) {
          const first = response;
          try {
            response = await deps.ai.respond({
              system: `${system}\n\nTool result: register_promise(amount=${(first.action as { amountCents: number }).amountCents / 100}, due_date=${JSON.stringify((first.action as { dueDate: string }).dueDate)}) was REFUSED: ${refusal}. Do not call register_promise with these arguments again; tell the customer what is possible.`,
              history: toChat([...context.history].reverse()),
              correlationId: input.correlationId,
              departments: context.departments,
            });
          } catch (error) {
            return recordFailure({ ...base, latencyMs: Math.round(performance.now() - started) }, error, span);
          }
          response = { ...response, usage: addUsage(first.usage, response.usage) };
          if (
            response.action.type === 'promise' &&
            promiseRefusal(response.action, {
              debtCents: context.budget.debtCents,
              maxDaysAhead: context.budget.promiseMaxDaysAhead ?? budgetConfig.promiseMaxDaysAhead,
              now: deps.clock(),
            })
          )
            response = {
              ...response,
              output: null,
              action: {
                type: 'handoff' as const,
                department: context.defaultDepartment,
                reason: 'promise refused twice',
              },
            };
        }
      }
      const latencyMs = Math.round(performance.now() - started);
      // Issue 13 C: a handoff the model asked for without naming a department goes to the tenant's default one.
      if (response.action.type === 'handoff' && response.action.defaulted) {
        const { defaulted: _defaulted, ...handoff } = response.action;
        response = { ...response, action: { ...handoff, department: context.defaultDepartment } };
      }
      // Issue 23 E: the last guard. An unconfirmed contact gets no debt detail even if the model produced one (from
      // the history or the customer's own words), and no promise is registered (its confirmation would quote it).
      let identityGuard: string | null = null;
      if (identity.withheld && context.campaign) {
        const ask = identityReminder(identity.method, context.tenantLocale);
        const debt = { amountCents: context.campaign.debt, due: context.campaign.due };
        if (response.action.type === 'promise') {
          identityGuard = 'promise_deferred';
          response = {
            ...response,
            action: { type: 'reply' } as const,
            output: {
              ...(response.output ?? IDENTITY_TURN),
              reply: ask,
            },
          };
        } else if (response.output && mentionsDebt(response.output.reply, debt)) {
          identityGuard = 'reply_replaced';
          response = { ...response, output: { ...response.output, reply: ask } };
        }
      }
      const identityRecord =
        identity.result !== null || identity.withheld
          ? {
              identity: {
                method: identity.method,
                result: identity.result,
                disclosed: !identity.withheld,
                guard: identityGuard,
              },
            }
          : {};
      const citedSources: string[] = response.output?.sources ?? [];
      const turnAlerts = response.output ? alertsForTurn(response.output) : [];
      // One statement: the ai_results row, its alerts and the ai.called / alert.raised events.
      const aiResultId = await recordAiResult(
        db,
        {
          ...base,
          model: response.model,
          status: 'ok',
          latencyMs,
          output: {
            ...(response.output ?? {}),
            action: response.action,
            ...(response.ignoredToolCalls ? { ignoredToolCalls: response.ignoredToolCalls } : {}),
            ...identityRecord,
            ...(mediaRead ? { media: mediaRead } : {}),
            ...(knowledge ? { kb: knowledgeRecord(knowledge, citedSources) } : {}),
          },
          promptTokens: response.usage?.promptTokens ?? null,
          completionTokens: response.usage?.completionTokens ?? null,
        },
        (id) => turnAlerts.map((a) => ({ ...a, payload: { aiResultId: id, correlationId: input.correlationId } })),
        (id) => [
          {
            trace: span,
            type: 'ai.called',
            tenantId: input.tenantId,
            conversationId: input.conversationId,
            payload: {
              aiResultId: id,
              model: response.model,
              latencyMs,
              intent: response.output?.intent ?? null,
              action: response.action.type,
              messages: input.messageIds.length,
              promptVersion: prompt.version,
            },
          },
          ...turnAlerts.map((a) => ({
            trace: childSpan(span),
            type: 'alert.raised',
            level: 'warn' as const,
            tenantId: input.tenantId,
            conversationId: input.conversationId,
            payload: { alertType: a.type, severity: a.severity },
          })),
        ],
      );
      return {
        aiResultId,
        reply: response.output?.reply ?? null,
        action: response.action,
        output: response.output,
        ...(context.hybrid ? { hybrid: true } : {}),
      };
    },

    /**
     * Thread rotation (I13): folds the messages that no longer fit the prompt window into the conversation
     * summary, so a long conversation's prompt stays small. Returns false when there was nothing to fold.
     */
    async summarizeConversation(input: SummarizeInput): Promise<{ summarized: boolean }> {
      const context = await conversationContext(db, input.conversationId);
      const older = await messagesToFold(db, {
        conversationId: input.conversationId,
        after: context.summarizedUntil,
        historyWindow: HISTORY_WINDOW,
      });
      if (older.length === 0) return { summarized: false };
      const started = performance.now();
      const correlationId = `summary:${input.conversationId}:${older[older.length - 1]!.createdAt.toISOString()}`;
      const base = {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        correlationId,
        traceId: input.trace.traceId,
        provider: deps.ai.provider,
        model: deps.ai.model,
        attempt: Context.current().info.attempt,
        latencyMs: 0,
      };
      let result;
      try {
        result = await deps.ai.summarize({
          previousSummary: context.summary,
          messages: toChat(older),
          correlationId,
          safetyIdentifier: safetyIdentifier(input.tenantId, context.contactId),
        });
      } catch (error) {
        return recordFailure(
          { ...base, latencyMs: Math.round(performance.now() - started) },
          error,
          childSpan(input.trace),
        );
      }
      await recordSummary(db, {
        summary: result.summary,
        summarizedUntil: older[older.length - 1]!.createdAt,
        messages: older.length,
        result: {
          ...base,
          model: result.model,
          status: 'ok',
          latencyMs: Math.round(performance.now() - started),
          output: { summary: result.summary, messages: older.length },
          promptTokens: result.usage?.promptTokens ?? null,
          completionTokens: result.usage?.completionTokens ?? null,
        },
        trace: input.trace,
      });
      return { summarized: true };
    },
  };
}
