CREATE TABLE "hybrid_settings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"department" text,
	"enabled" boolean NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hybrid_settings_tenant_department_uq" UNIQUE NULLS NOT DISTINCT("tenant_id","department")
);
--> statement-breakpoint
CREATE TABLE "suggested_responses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"ai_result_id" uuid NOT NULL,
	"prompt_version_id" uuid,
	"department" text,
	"input_message_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"draft_text" text NOT NULL,
	"final_text" text,
	"outcome" text,
	"reason" text,
	"decided_by" uuid,
	"decided_at" timestamp with time zone,
	"message_id" uuid,
	"escalated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hybrid_settings" ADD CONSTRAINT "hybrid_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggested_responses" ADD CONSTRAINT "suggested_responses_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggested_responses" ADD CONSTRAINT "suggested_responses_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggested_responses" ADD CONSTRAINT "suggested_responses_ai_result_id_ai_results_id_fk" FOREIGN KEY ("ai_result_id") REFERENCES "public"."ai_results"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggested_responses" ADD CONSTRAINT "suggested_responses_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suggested_responses" ADD CONSTRAINT "suggested_responses_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "suggested_responses_ai_result_uq" ON "suggested_responses" USING btree ("ai_result_id");--> statement-breakpoint
CREATE INDEX "suggested_responses_conversation_idx" ON "suggested_responses" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE INDEX "suggested_responses_pending_idx" ON "suggested_responses" USING btree ("tenant_id","created_at") WHERE outcome is null;