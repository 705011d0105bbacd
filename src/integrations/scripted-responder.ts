import {
  actionFromOutput,
  promiseAction,
  type AiAction,
  type AiResponder,
  type AiSummaryRequest,
  type AiSummaryResponse,
  type AiTurnOutput,
  type AiTurnRequest,
  type AiTurnResponse,
} from './ai';

interface Rule {
  test: RegExp;
  output: Omit<AiTurnOutput, 'reply'> & { reply: (text: string) => string };
}

// Offline responder for `npm start` without OPENAI_API_KEY: deterministic keyword rules that exercise the same
// structured output (intent, sentiment, urgency, handoff) as a model would, so the pipeline is complete offline.
/** Whole-word match that also works for accented words (JS \b only knows ASCII letters). */
const words = (...list: string[]) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${list.join('|')})(?![\\p{L}\\p{N}])`, 'iu');

const RULES: Rule[] = [
  {
    test: words('humano', 'atendente', 'agent', 'human', 'pessoa', 'person'),
    output: {
      intent: 'human_request',
      sentiment: 'neutral',
      urgency: 'medium',
      confidence: 0.9,
      wants_human: true,
      reply: () => 'Vou transferir você para um atendente humano. / I am handing you over to a human agent.',
    },
  },
  {
    test: words('urgente', 'urgent', 'emergency', 'emergência', 'socorro'),
    output: {
      intent: 'urgent_issue',
      sentiment: 'negative',
      urgency: 'critical',
      confidence: 0.8,
      wants_human: true,
      reply: () =>
        'Entendi que é urgente. Um atendente vai falar com você agora. / Understood, this is urgent: an agent will contact you now.',
    },
  },
  {
    test: words('pagar', 'pagamento', 'boleto', 'pay', 'payment', 'invoice', 'fatura'),
    output: {
      intent: 'payment',
      sentiment: 'neutral',
      urgency: 'low',
      confidence: 0.8,
      wants_human: false,
      reply: () =>
        'Posso ajudar com pagamentos. Qual é a data em que você consegue pagar? / I can help with payments: when can you pay?',
    },
  },
  {
    test: words('obrigad[oa]', 'thanks', 'thank you', 'valeu'),
    output: {
      intent: 'thanks',
      sentiment: 'positive',
      urgency: 'low',
      confidence: 0.9,
      wants_human: false,
      reply: () => 'Por nada! Posso ajudar em mais alguma coisa? / You are welcome! Anything else?',
    },
  },
  {
    test: words('ol[aá]', 'oi', 'bom dia', 'boa tarde', 'boa noite', 'hello', 'hi', 'hey'),
    output: {
      intent: 'greeting',
      sentiment: 'positive',
      urgency: 'low',
      confidence: 0.95,
      wants_human: false,
      reply: () =>
        'Olá! Sou o assistente virtual da Causeway. Como posso ajudar? / Hello! I am the Causeway assistant: how can I help?',
    },
  },
];

/**
 * A commitment to pay with an amount and a date ("vou pagar 150,00 dia 10/12 no pix"): the offline stand-in for
 * the model's register_promise tool call. Dates without a year are the next such day.
 */
export function scriptedPromise(text: string, today = new Date()): AiAction | null {
  if (!words('pagar', 'pago', 'pay', 'prometo', 'promise').test(text)) return null;
  const amount = /(?:R\$|\$)?\s*(\d{1,7}(?:[.,]\d{2})?)(?![\d/-])/.exec(
    text.replace(/\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}(?:\/\d{4})?/g, ' '),
  );
  const iso = /\b(\d{4}-\d{2}-\d{2})\b/.exec(text)?.[1];
  const dm = /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?\b/.exec(text);
  let due = iso ?? null;
  if (!due && dm) {
    const year = dm[3] ? Number(dm[3]) : today.getUTCFullYear();
    const candidate = new Date(Date.UTC(year, Number(dm[2]) - 1, Number(dm[1])));
    if (!dm[3] && candidate.getTime() < Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()))
      candidate.setUTCFullYear(year + 1);
    due = candidate.toISOString().slice(0, 10);
  }
  if (!amount || !due) return null;
  const method = /pix/i.test(text)
    ? 'pix'
    : /boleto/i.test(text)
      ? 'boleto'
      : /cart[aã]o|card/i.test(text)
        ? 'card'
        : /transfer/i.test(text)
          ? 'transfer'
          : 'other';
  return promiseAction({ amount: Number(amount[1]!.replace(',', '.')), due_date: due, method });
}

export function createScriptedResponder(): AiResponder {
  return {
    provider: 'scripted',
    model: 'scripted-v1',
    respond(request: AiTurnRequest): Promise<AiTurnResponse> {
      const lastUser = [...request.history].reverse().find((m) => m.role === 'user')?.content ?? '';
      const promise = scriptedPromise(lastUser);
      if (promise) {
        // Like the model calling only the tool: the conversation confirms it with the promise_confirmation template.
        return Promise.resolve({ output: null, action: promise, model: 'scripted-v1', usage: null });
      }
      const rule = RULES.find((r) => r.test.test(lastUser));
      const output: AiTurnOutput = rule
        ? { ...rule.output, reply: rule.output.reply(lastUser) }
        : {
            intent: 'other',
            sentiment: 'neutral',
            urgency: 'low',
            confidence: 0.4,
            wants_human: false,
            reply: `Recebi sua mensagem (${lastUser.length} caracteres). Pode me contar um pouco mais? / Got it: could you tell me a bit more?`,
          };
      return Promise.resolve({ output, action: actionFromOutput(output), model: 'scripted-v1', usage: null });
    },
    summarize(request: AiSummaryRequest): Promise<AiSummaryResponse> {
      // Extractive, not generative: the earlier summary plus the customer's first and latest lines.
      const customer = request.messages.filter((m) => m.role === 'user').map((m) => m.content.slice(0, 120));
      const lines = [
        request.previousSummary,
        customer[0] && `First: ${customer[0]}`,
        customer.length > 1 && `Latest: ${customer[customer.length - 1]}`,
        `${request.messages.length} earlier messages`,
      ];
      return Promise.resolve({ summary: lines.filter(Boolean).join('\n'), model: 'scripted-v1', usage: null });
    },
  };
}
