ALTER TABLE "contacts" ADD COLUMN "bsuid" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "invalid_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "invalid_channel" "channel";--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "invalid_code" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "backoff_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "backoff_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "typing_indicator" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "messaging_service_sid" text;--> statement-breakpoint
CREATE UNIQUE INDEX "contacts_tenant_bsuid_uq" ON "contacts" USING btree ("tenant_id","bsuid") WHERE bsuid is not null;--> statement-breakpoint
CREATE INDEX "messages_unsettled_outbound_idx" ON "messages" USING btree ("tenant_id","created_at") WHERE direction = 'outbound' and provider_sid is not null and status not in ('delivered', 'read', 'undelivered', 'failed', 'canceled');