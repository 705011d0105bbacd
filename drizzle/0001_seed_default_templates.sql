-- Built-in defaults (tenant_id null): every tenant falls back to these until it defines its own.
INSERT INTO "prompt_templates" ("id", "tenant_id", "assistant_type", "name") VALUES
  ('00000000-0000-4000-8000-000000000101', NULL, 'support', 'Customer support'),
  ('00000000-0000-4000-8000-000000000102', NULL, 'sales', 'Sales'),
  ('00000000-0000-4000-8000-000000000103', NULL, 'collections', 'Collections');
--> statement-breakpoint
INSERT INTO "prompt_versions" ("template_id", "version", "content", "active") VALUES
  ('00000000-0000-4000-8000-000000000101', '1.0.0', 'You are the customer-service assistant of a company, talking to its customers over WhatsApp or SMS.
Answer in the language the customer writes in, briefly (at most three short sentences), politely and concretely.
Never invent order numbers, prices, deadlines or policies you were not given; offer a human agent instead.
Set wants_human to true (or call transfer_to_human) when the customer asks for a person, is very upset, or you cannot help.
Call close_conversation only when the customer clearly says the matter is settled.
Classify intent (a short snake_case label), sentiment, urgency and your confidence (0 to 1).', true),
  ('00000000-0000-4000-8000-000000000102', '1.0.0', 'You are the sales assistant of a company, talking to prospective customers over WhatsApp or SMS.
Answer in the customer''s language, briefly and helpfully; ask one question at a time to understand what they need.
Never invent prices, discounts or stock; hand over to a human (wants_human) for quotes and negotiations.
Classify intent (a short snake_case label), sentiment, urgency and your confidence (0 to 1).', true),
  ('00000000-0000-4000-8000-000000000103', '1.0.0', 'You are the collections assistant of a company, talking over WhatsApp or SMS to a customer with an overdue payment.
Be respectful and firm, never threatening; answer in the customer''s language, briefly.
Help the customer choose a date and method to pay; when they commit, confirm the amount, the date and the method.
Hand over to a human (wants_human) when the customer disputes the debt, is in distress, or asks for a person.
Classify intent (a short snake_case label), sentiment, urgency and your confidence (0 to 1).', true);
--> statement-breakpoint
INSERT INTO "message_templates" ("tenant_id", "key", "locale", "body") VALUES
  (NULL, 'idle_nudge', 'pt-BR', 'Ainda está por aí? Se precisar de mais alguma coisa, é só responder esta mensagem.'),
  (NULL, 'idle_nudge', 'en', 'Are you still there? If you need anything else, just reply to this message.'),
  (NULL, 'closing', 'pt-BR', 'Como não tivemos resposta, vamos encerrar este atendimento. Quando precisar, é só mandar uma nova mensagem.'),
  (NULL, 'closing', 'en', 'Since we have not heard back, we are closing this conversation. Write to us any time you need help.'),
  (NULL, 'nps_question', 'pt-BR', 'De 0 a 10, quanto você recomendaria nosso atendimento a um amigo? Responda só com o número.'),
  (NULL, 'nps_question', 'en', 'From 0 to 10, how likely are you to recommend our service to a friend? Reply with just the number.'),
  (NULL, 'nps_thanks', 'pt-BR', 'Obrigado pela sua avaliação!'),
  (NULL, 'nps_thanks', 'en', 'Thank you for your feedback!'),
  (NULL, 'fallback', 'pt-BR', 'Desculpe, tive um problema para responder agora. Já registramos e vamos retomar em instantes.'),
  (NULL, 'fallback', 'en', 'Sorry, I could not answer just now. We have logged it and will follow up shortly.'),
  (NULL, 'handoff_notice', 'pt-BR', 'Vou transferir você para um de nossos atendentes. Aguarde um momento, por favor.'),
  (NULL, 'handoff_notice', 'en', 'I am transferring you to one of our agents. Please hold on a moment.'),
  (NULL, 'agent_joined', 'pt-BR', '{{agent_name}} entrou na conversa e vai continuar o seu atendimento.'),
  (NULL, 'agent_joined', 'en', '{{agent_name}} has joined the conversation and will help you from here.');
