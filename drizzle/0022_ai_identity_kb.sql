CREATE TABLE "kb_articles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"slug" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kb_passages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"article_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"content" text NOT NULL,
	"tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('portuguese', content)) STORED NOT NULL,
	"embedding" double precision[]
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "identity_confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "identity_check" text DEFAULT 'cpf-last-digits' NOT NULL;--> statement-breakpoint
ALTER TABLE "kb_articles" ADD CONSTRAINT "kb_articles_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kb_passages" ADD CONSTRAINT "kb_passages_article_id_kb_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."kb_articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kb_passages" ADD CONSTRAINT "kb_passages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "kb_articles_tenant_slug_uq" ON "kb_articles" USING btree ("tenant_id","slug");--> statement-breakpoint
CREATE INDEX "kb_passages_tenant_idx" ON "kb_passages" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "kb_passages_tsv_idx" ON "kb_passages" USING gin ("tsv");--> statement-breakpoint
-- Issue 23 D: trigram similarity where the server has pg_trgm (Postgres contrib, PGlite's contrib build). Without it
-- the migration still succeeds and retrieval uses full-text search alone (src/db/kb.ts checks at run time).
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX IF NOT EXISTS kb_passages_trgm_idx ON kb_passages USING gin (content gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm unavailable (%): knowledge base retrieval uses full-text search only', SQLERRM;
END
$$;
--> statement-breakpoint
-- Issue 23 E: what a collection template, a promise reminder or the assistant sends instead of debt details to a
-- contact who has not confirmed their identity ({{identity_prompt}}: "the last 4 digits of your CPF", …).
INSERT INTO "message_templates" ("tenant_id", "key", "locale", "body") VALUES
  (NULL, 'identity_request', 'pt-BR', 'Olá! Temos uma mensagem importante sobre a sua conta. Para proteger seus dados, antes de falarmos de valores, confirme sua identidade respondendo com {{identity_prompt}}. Se não for você, responda SAIR.'),
  (NULL, 'identity_request', 'en', 'Hello! We have an important message about your account. To protect your data, before we discuss any amounts, please confirm your identity by replying with {{identity_prompt}}. If this is not you, reply STOP.');
