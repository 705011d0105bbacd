-- Built-in message templates for campaigns, opt-out and promises to pay (tenants may override any key).
-- Variables: a campaign template sees the target's name, amount (formatted), due_date and its file's extra columns.
INSERT INTO "message_templates" ("tenant_id", "key", "locale", "body") VALUES
  (NULL, 'collection_notice', 'pt-BR', 'Olá {{name}}, identificamos uma fatura em aberto de {{amount}} com vencimento em {{due_date}}. Podemos ajudar a regularizar? Responda esta mensagem. Para não receber mais avisos, responda SAIR.'),
  (NULL, 'collection_notice', 'en', 'Hi {{name}}, we have an open invoice of {{amount}} due on {{due_date}}. Can we help you settle it? Just reply to this message. Reply STOP to opt out.'),
  (NULL, 'outage_notice', 'pt-BR', '{{message}}'),
  (NULL, 'outage_notice', 'en', '{{message}}'),
  (NULL, 'opt_out_confirmation', 'pt-BR', 'Pronto: você não receberá mais mensagens de campanha. Para voltar a receber, responda VOLTAR.'),
  (NULL, 'opt_out_confirmation', 'en', 'Done: you will not receive campaign messages any more. Reply START to subscribe again.'),
  (NULL, 'opt_in_confirmation', 'pt-BR', 'Você voltou a receber nossas mensagens.'),
  (NULL, 'opt_in_confirmation', 'en', 'You are subscribed to our messages again.'),
  (NULL, 'promise_confirmation', 'pt-BR', 'Combinado: pagamento de {{amount}} até {{due_date}} via {{method}}. Vamos lembrar você antes do vencimento.'),
  (NULL, 'promise_confirmation', 'en', 'Agreed: payment of {{amount}} by {{due_date}} via {{method}}. We will remind you before the due date.'),
  (NULL, 'promise_reminder', 'pt-BR', 'Lembrete: o pagamento combinado de {{amount}} vence em {{due_date}}. Se já pagou, desconsidere.'),
  (NULL, 'promise_reminder', 'en', 'Reminder: the payment of {{amount}} you agreed to is due on {{due_date}}. If you already paid, please ignore this.'),
  (NULL, 'promise_thanks', 'pt-BR', 'Recebemos o seu pagamento de {{amount}}. Obrigado!'),
  (NULL, 'promise_thanks', 'en', 'We received your payment of {{amount}}. Thank you!'),
  (NULL, 'promise_broken', 'pt-BR', 'Não identificamos o pagamento de {{amount}} combinado para {{due_date}}. Podemos combinar uma nova data? Responda esta mensagem.'),
  (NULL, 'promise_broken', 'en', 'We have not received the payment of {{amount}} agreed for {{due_date}}. Can we agree on a new date? Just reply to this message.');
