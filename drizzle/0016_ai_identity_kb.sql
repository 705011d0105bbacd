ALTER TABLE "conversations" ADD COLUMN "identity_confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "identity_check" text DEFAULT 'cpf-last-digits' NOT NULL;--> statement-breakpoint
-- Issue 23 E: what a collection template, a promise reminder or the assistant sends instead of debt details to a
-- contact who has not confirmed their identity ({{identity_prompt}}: "the last 4 digits of your CPF", …).
INSERT INTO "message_templates" ("tenant_id", "key", "locale", "body") VALUES
  (NULL, 'identity_request', 'pt-BR', 'Olá! Temos uma mensagem importante sobre a sua conta. Para proteger seus dados, antes de falarmos de valores, confirme sua identidade respondendo com {{identity_prompt}}. Se não for você, responda SAIR.'),
  (NULL, 'identity_request', 'en', 'Hello! We have an important message about your account. To protect your data, before we discuss any amounts, please confirm your identity by replying with {{identity_prompt}}. If this is not you, reply STOP.');
