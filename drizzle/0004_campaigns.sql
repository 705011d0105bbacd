CREATE TABLE "campaign_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"line" integer NOT NULL,
	"order_key" bigint NOT NULL,
	"name" text,
	"time_zone" text,
	"priority" integer DEFAULT 0 NOT NULL,
	"debt_amount_cents" bigint,
	"due_date" date,
	"document" text,
	"variables" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"outcome" text,
	"outcome_details" text,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_message_id" uuid,
	"last_status" text,
	"last_status_at" timestamp with time zone,
	"contacted_at" timestamp with time zone,
	"succeeded_at" timestamp with time zone,
	"replied_at" timestamp with time zone,
	"conversation_id" uuid,
	"payment_status" text,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"kind" text DEFAULT 'broadcast' NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"strategy" text DEFAULT 'sequential' NOT NULL,
	"channel" "channel" NOT NULL,
	"sender" text NOT NULL,
	"template_key" text,
	"body" text,
	"rate_per_second" double precision NOT NULL,
	"max_attempts" integer DEFAULT 1 NOT NULL,
	"attempt_spacing_seconds" integer DEFAULT 3600 NOT NULL,
	"retry_on_no_reply" boolean DEFAULT false NOT NULL,
	"active_hours" text NOT NULL,
	"default_time_zone" text NOT NULL,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"total_targets" integer DEFAULT 0 NOT NULL,
	"contacted_targets" integer DEFAULT 0 NOT NULL,
	"successful_contacts" integer DEFAULT 0 NOT NULL,
	"failed_targets" integer DEFAULT 0 NOT NULL,
	"opted_out_targets" integer DEFAULT 0 NOT NULL,
	"skipped_targets" integer DEFAULT 0 NOT NULL,
	"promises_made" integer DEFAULT 0 NOT NULL,
	"promises_fulfilled" integer DEFAULT 0 NOT NULL,
	"promises_broken" integer DEFAULT 0 NOT NULL,
	"massive_failure_id" uuid,
	"workflow_id" text NOT NULL,
	"trace_id" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	CONSTRAINT "campaigns_tenant_name_uq" UNIQUE("tenant_id","name")
);
--> statement-breakpoint
CREATE TABLE "failure_notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"failure_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"notification_type" text NOT NULL,
	"target_id" uuid,
	"message_id" uuid,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "massive_failures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"severity" text DEFAULT 'high' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"affected_regions" jsonb NOT NULL,
	"message" text NOT NULL,
	"resolution_message" text,
	"estimated_resolution" timestamp with time zone,
	"notify_campaign_id" uuid,
	"resolve_campaign_id" uuid,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"amount_cents" bigint NOT NULL,
	"external_id" text NOT NULL,
	"paid_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_tenant_external_uq" UNIQUE("tenant_id","external_id")
);
--> statement-breakpoint
CREATE TABLE "promises" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"campaign_id" uuid,
	"target_id" uuid,
	"contact_id" uuid NOT NULL,
	"conversation_id" uuid,
	"ai_result_id" uuid,
	"channel" "channel" NOT NULL,
	"sender" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"method" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reminder_sent_at" timestamp with time zone,
	"checked_at" timestamp with time zone,
	"fulfilled_at" timestamp with time zone,
	"broken_at" timestamp with time zone,
	"trace_id" text,
	"workflow_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "region" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "time_zone" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "opt_out_source" text;--> statement-breakpoint
ALTER TABLE "message_templates" ADD COLUMN "content_variables" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "campaign_target_id" uuid;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "failure_notifications" ADD CONSTRAINT "failure_notifications_failure_id_massive_failures_id_fk" FOREIGN KEY ("failure_id") REFERENCES "public"."massive_failures"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "failure_notifications" ADD CONSTRAINT "failure_notifications_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "failure_notifications" ADD CONSTRAINT "failure_notifications_target_id_campaign_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."campaign_targets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "massive_failures" ADD CONSTRAINT "massive_failures_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_target_id_campaign_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."campaign_targets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_contact_id_contacts_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "campaign_targets_campaign_contact_uq" ON "campaign_targets" USING btree ("campaign_id","contact_id");--> statement-breakpoint
CREATE INDEX "campaign_targets_dispatch_idx" ON "campaign_targets" USING btree ("campaign_id","order_key") WHERE state in ('pending', 'scheduled');--> statement-breakpoint
CREATE INDEX "campaign_targets_next_attempt_idx" ON "campaign_targets" USING btree ("campaign_id","next_attempt_at") WHERE state in ('pending', 'scheduled', 'sending');--> statement-breakpoint
CREATE INDEX "campaign_targets_contact_idx" ON "campaign_targets" USING btree ("contact_id","state");--> statement-breakpoint
CREATE INDEX "campaigns_tenant_status_idx" ON "campaigns" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "failure_notifications_once_uq" ON "failure_notifications" USING btree ("failure_id","contact_id","notification_type");--> statement-breakpoint
CREATE INDEX "massive_failures_tenant_status_idx" ON "massive_failures" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "payments_contact_paid_idx" ON "payments" USING btree ("contact_id","paid_at");--> statement-breakpoint
CREATE INDEX "promises_status_due_idx" ON "promises" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "promises_campaign_idx" ON "promises" USING btree ("campaign_id");--> statement-breakpoint
CREATE UNIQUE INDEX "promises_ai_result_uq" ON "promises" USING btree ("ai_result_id");--> statement-breakpoint
CREATE INDEX "contacts_tenant_region_idx" ON "contacts" USING btree ("tenant_id","region");--> statement-breakpoint
CREATE INDEX "messages_campaign_target_idx" ON "messages" USING btree ("campaign_target_id");