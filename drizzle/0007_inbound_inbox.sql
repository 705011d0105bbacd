CREATE TABLE "inbound_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_sid" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"task_queue" text NOT NULL,
	"input" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"drained_at" timestamp with time zone,
	CONSTRAINT "inbound_inbox_message_sid_unique" UNIQUE("message_sid")
);
--> statement-breakpoint
ALTER TABLE "inbound_inbox" ADD CONSTRAINT "inbound_inbox_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inbound_inbox_pending_idx" ON "inbound_inbox" USING btree ("task_queue","created_at") WHERE state = 'pending';