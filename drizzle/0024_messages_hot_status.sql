DROP INDEX "messages_unsettled_outbound_idx";--> statement-breakpoint
CREATE INDEX "messages_outbound_sent_idx" ON "messages" USING btree ("tenant_id","created_at") WHERE direction = 'outbound' and provider_sid is not null;--> statement-breakpoint
-- Issue 25 (hand-written): room on each page for a message's status versions (sent, delivered, read), so its status
-- callbacks are HOT updates that write no index; new pages only (existing ones keep their layout until rewritten).
ALTER TABLE "messages" SET (fillfactor = 80);
