CREATE TABLE "conversation_transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"from_department" text,
	"to_department" text,
	"from_agent" uuid,
	"to_agent" uuid,
	"note" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "desk_settings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"department" text,
	"time_zone" text,
	"hours" text,
	"holidays" jsonb,
	"closed_dates" jsonb,
	"first_response_sla_ms" integer,
	"next_response_sla_ms" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "desk_settings_tenant_department_uq" UNIQUE NULLS NOT DISTINCT("tenant_id","department")
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "waiting_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "sla_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "presence" text DEFAULT 'offline' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "presence_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "capacity" integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "last_assigned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversation_transfers" ADD CONSTRAINT "conversation_transfers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_transfers" ADD CONSTRAINT "conversation_transfers_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_transfers" ADD CONSTRAINT "conversation_transfers_from_agent_users_id_fk" FOREIGN KEY ("from_agent") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_transfers" ADD CONSTRAINT "conversation_transfers_to_agent_users_id_fk" FOREIGN KEY ("to_agent") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "desk_settings" ADD CONSTRAINT "desk_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "conversation_transfers_conversation_idx" ON "conversation_transfers" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE INDEX "conversations_human_agent_idx" ON "conversations" USING btree ("assigned_agent") WHERE status = 'HUMAN';--> statement-breakpoint
-- Issue 20 B: a handoff outside desk hours tells the customer when the desk opens ({{opens_at}}, in the tenant's locale).
INSERT INTO "message_templates" ("tenant_id", "key", "locale", "body") VALUES
  (NULL, 'desk_closed', 'pt-BR', 'Nosso atendimento humano está fechado agora. Sua conversa está na fila e um atendente responde a partir de {{opens_at}}.'),
  (NULL, 'desk_closed', 'en', 'Our agents are away right now. Your conversation is in the queue and an agent will answer from {{opens_at}}.');
