-- G: the AI fallback went out with "we will follow up shortly", and nothing scheduled a follow-up. The fallback is
-- sent only after the AI's retries ran out, and now raises an `ai_failure` alert for supervisors; its text asks the
-- customer to write again instead of promising something no process keeps. Only the untouched built-ins change.
UPDATE "message_templates" SET "body" = 'Desculpe, não consegui responder agora. Por favor, envie sua mensagem novamente em alguns minutos.'
  WHERE "tenant_id" IS NULL AND "key" = 'fallback' AND "locale" = 'pt-BR'
    AND "body" = 'Desculpe, tive um problema para responder agora. Já registramos e vamos retomar em instantes.';
--> statement-breakpoint
UPDATE "message_templates" SET "body" = 'Sorry, I could not answer just now. Please send your message again in a few minutes.'
  WHERE "tenant_id" IS NULL AND "key" = 'fallback' AND "locale" = 'en'
    AND "body" = 'Sorry, I could not answer just now. We have logged it and will follow up shortly.';
