import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Channel } from '../../contract/types';
import { contactBackoffMs, type ErrorDecision } from '../../domain/twilio-errors';
import type { DbOrTx } from '../core/client';
import { raiseAlerts } from '../events/alerts';
import { alerts, contacts } from '../schema';

/**
 * What a classified Twilio error does to the contact and the operators (issue 22 B), the same for a REST answer
 * (src/services/outbound/sender.ts) and a status callback (src/db/delivery-status.ts), in the caller's transaction.
 */
export interface ErrorEffectInput {
  tenantId: string;
  contactId: string;
  conversationId: string | null;
  messageId: string;
  channel: Channel;
  code: string | null;
  purpose: string;
  contentSid?: string | null;
}

/** Returns, for 63049, until when business-initiated sends to the contact wait. */
export async function applyErrorEffects(
  tx: DbOrTx,
  decision: ErrorDecision,
  input: ErrorEffectInput,
): Promise<{ backoffUntil: Date | null }> {
  let backoffUntil: Date | null = null;
  if (decision.class === 'contact_invalid') await markContactInvalid(tx, input.contactId, input.channel, input.code);
  if (decision.class === 'retry_later_for_contact') backoffUntil = await backOffContact(tx, input.contactId);
  if (decision.alert) await raiseErrorAlert(tx, decision, input);
  return { backoffUntil };
}

/** The address cannot receive on this channel (63024, 21211…): business-initiated sends on it stop. */
export async function markContactInvalid(tx: DbOrTx, contactId: string, channel: Channel, code: string | null) {
  await tx
    .update(contacts)
    .set({ invalidAt: sql`now()`, invalidChannel: channel, invalidCode: code, updatedAt: sql`now()` })
    .where(eq(contacts.id, contactId));
}

/** A customer message proves the address works again: the mark goes. */
export async function clearContactInvalid(tx: DbOrTx, contactId: string, channel: Channel) {
  await tx
    .update(contacts)
    .set({ invalidAt: null, invalidChannel: null, invalidCode: null })
    .where(and(eq(contacts.id, contactId), eq(contacts.invalidChannel, channel)));
}

/**
 * 63049: the n-th consecutive decline holds the contact for contactBackoffMs(n). "Consecutive": a decline more than
 * 30 days after the last backoff ended starts the count again.
 */
export async function backOffContact(tx: DbOrTx, contactId: string): Promise<Date> {
  const [row] = await tx
    .select({ until: contacts.backoffUntil, count: contacts.backoffCount })
    .from(contacts)
    .where(eq(contacts.id, contactId))
    .for('update');
  const now = Date.now();
  const fresh = !row?.until || now - row.until.getTime() > 30 * 86_400_000;
  const count = fresh ? 1 : row.count + 1;
  const until = new Date(now + contactBackoffMs(count));
  await tx
    .update(contacts)
    .set({ backoffUntil: until, backoffCount: count, updatedAt: sql`now()` })
    .where(eq(contacts.id, contactId));
  return until;
}

/**
 * One open alert per tenant, alert type and error code (and template): a campaign of 10 000 failing with 63028
 * raises one alert, not 10 000. `template_invalid` names the template an admin must fix; unknown codes ask for a
 * row in the table; configuration codes (sender, account, carrier filtering) go to the same `twilio_error` type.
 */
async function raiseErrorAlert(tx: DbOrTx, decision: ErrorDecision, input: ErrorEffectInput) {
  const type =
    decision.class === 'template_invalid'
      ? 'template_invalid'
      : decision.class === 'unknown'
        ? 'twilio_unknown_error'
        : 'twilio_error';
  const code = input.code ?? '';
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${type}:${input.tenantId}:${code}`}))`);
  const [open] = await tx
    .select({ id: alerts.id })
    .from(alerts)
    .where(
      and(
        eq(alerts.tenantId, input.tenantId),
        eq(alerts.type, type),
        isNull(alerts.resolvedAt),
        sql`${alerts.payload}->>'errorCode' = ${code}`,
      ),
    )
    .limit(1);
  if (open) return;
  const message =
    type === 'template_invalid'
      ? `WhatsApp template for "${input.purpose}"${input.contentSid ? ` (${input.contentSid})` : ''} was refused (Twilio error ${code}: ${decision.reason}): fix the template or its variables (causeway template set)`
      : type === 'twilio_unknown_error'
        ? `Twilio error ${code} is not in Causeway's error table: retried with a bounded backoff; add it to src/domain/twilio-errors.ts`
        : `Twilio error ${code} (${decision.reason}) needs an operator: check the account, sender or content`;
  await raiseAlerts(tx, [
    {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      type,
      severity: 'high',
      message,
      payload: {
        errorCode: code,
        reason: decision.reason,
        purpose: input.purpose,
        messageId: input.messageId,
        ...(input.contentSid ? { contentSid: input.contentSid } : {}),
      },
    },
  ]);
}

/**
 * Issue 22 C: a template send refused before the call because a declared variable was missing or blank. One open
 * alert per tenant and purpose (a campaign whose CSV lacks a column raises one alert, not one per target).
 */
export async function raiseTemplateVariablesAlert(
  tx: DbOrTx,
  input: { tenantId: string; conversationId: string | null; purpose: string; contentSid: string; detail: string },
) {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtext(${`template_variables:${input.tenantId}:${input.purpose}`}))`,
  );
  const [open] = await tx
    .select({ id: alerts.id })
    .from(alerts)
    .where(
      and(
        eq(alerts.tenantId, input.tenantId),
        eq(alerts.type, 'template_variables'),
        isNull(alerts.resolvedAt),
        sql`${alerts.payload}->>'purpose' = ${input.purpose}`,
      ),
    )
    .limit(1);
  if (open) return;
  await raiseAlerts(tx, [
    {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      type: 'template_variables',
      severity: 'high',
      message: `WhatsApp template for "${input.purpose}" (${input.contentSid}) not sent: ${input.detail}. Supply the variables or fix the template's --variables (causeway template set)`,
      payload: { purpose: input.purpose, contentSid: input.contentSid, detail: input.detail },
    },
  ]);
}
