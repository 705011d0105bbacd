import { actionFromOutput, type AiResponder, type AiSummaryRequest, type AiSummaryResponse, type AiTurnOutput, type AiTurnRequest, type AiTurnResponse } from './ai';

interface Rule {
  test: RegExp;
  output: Omit<AiTurnOutput, 'reply'> & { reply: (text: string) => string };
}

// Offline responder for `npm start` without OPENAI_API_KEY: deterministic keyword rules that exercise the same
// structured output (intent, sentiment, urgency, handoff) as a model would, so the pipeline is complete offline.
/** Whole-word match that also works for accented words (JS \b only knows ASCII letters). */
const words = (...list: string[]) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${list.join('|')})(?![\\p{L}\\p{N}])`, 'iu');

const RULES: Rule[] = [
  { test: words('humano', 'atendente', 'agent', 'human', 'pessoa', 'person'), output: { intent: 'human_request', sentiment: 'neutral', urgency: 'medium', confidence: 0.9, wants_human: true, reply: () => 'Vou transferir você para um atendente humano. / I am handing you over to a human agent.' } },
  { test: words('urgente', 'urgent', 'emergency', 'emergência', 'socorro'), output: { intent: 'urgent_issue', sentiment: 'negative', urgency: 'critical', confidence: 0.8, wants_human: true, reply: () => 'Entendi que é urgente. Um atendente vai falar com você agora. / Understood, this is urgent: an agent will contact you now.' } },
  { test: words('pagar', 'pagamento', 'boleto', 'pay', 'payment', 'invoice', 'fatura'), output: { intent: 'payment', sentiment: 'neutral', urgency: 'low', confidence: 0.8, wants_human: false, reply: () => 'Posso ajudar com pagamentos. Qual é a data em que você consegue pagar? / I can help with payments: when can you pay?' } },
  { test: words('obrigad[oa]', 'thanks', 'thank you', 'valeu'), output: { intent: 'thanks', sentiment: 'positive', urgency: 'low', confidence: 0.9, wants_human: false, reply: () => 'Por nada! Posso ajudar em mais alguma coisa? / You are welcome! Anything else?' } },
  { test: words('ol[aá]', 'oi', 'bom dia', 'boa tarde', 'boa noite', 'hello', 'hi', 'hey'), output: { intent: 'greeting', sentiment: 'positive', urgency: 'low', confidence: 0.95, wants_human: false, reply: () => 'Olá! Sou o assistente virtual da Causeway. Como posso ajudar? / Hello! I am the Causeway assistant: how can I help?' } },
];

export function createScriptedResponder(): AiResponder {
  return {
    provider: 'scripted',
    model: 'scripted-v1',
    respond(request: AiTurnRequest): Promise<AiTurnResponse> {
      const lastUser = [...request.history].reverse().find((m) => m.role === 'user')?.content ?? '';
      const rule = RULES.find((r) => r.test.test(lastUser));
      const output: AiTurnOutput = rule
        ? { ...rule.output, reply: rule.output.reply(lastUser) }
        : { intent: 'other', sentiment: 'neutral', urgency: 'low', confidence: 0.4, wants_human: false, reply: `Recebi sua mensagem (${lastUser.length} caracteres). Pode me contar um pouco mais? / Got it: could you tell me a bit more?` };
      return Promise.resolve({ output, action: actionFromOutput(output), model: 'scripted-v1', usage: null });
    },
    summarize(request: AiSummaryRequest): Promise<AiSummaryResponse> {
      // Extractive, not generative: the earlier summary plus the customer's first and latest lines.
      const customer = request.messages.filter((m) => m.role === 'user').map((m) => m.content.slice(0, 120));
      const lines = [request.previousSummary, customer[0] && `First: ${customer[0]}`, customer.length > 1 && `Latest: ${customer[customer.length - 1]}`, `${request.messages.length} earlier messages`];
      return Promise.resolve({ summary: lines.filter(Boolean).join('\n'), model: 'scripted-v1', usage: null });
    },
  };
}
