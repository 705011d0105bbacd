import { and, asc, desc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { hasRole } from '../../domain/api-keys';
import type { ConversationStatus } from '../../contract';
import type { Database } from '../core/client';
import {
  aiResults,
  alerts,
  contacts,
  conversations,
  conversationStateHistory,
  inboundFailures,
  messages,
  orphanInbound,
  tenants,
  twilioAccounts,
  users,
} from '../schema';
import { findAccount } from '../tenants/tenants';
import type { Operator } from '../operators/users';

/**
 * Department scoping (issue 13 C): an AGENT sees the conversations of their department, the ones not routed to any
 * department yet (the AI still has them, department null) and the ones assigned to them; SUPERVISOR and ADMIN see
 * the whole tenant. Everything an operator reads or acts on goes through this condition.
 */
export function visibleTo(operator: Pick<Operator, 'id' | 'tenantId' | 'role' | 'department'>): SQL {
  const tenant = eq(conversations.tenantId, operator.tenantId);
  if (hasRole(operator.role, 'SUPERVISOR')) return tenant;
  return and(
    tenant,
    or(
      isNull(conversations.department),
      operator.department ? eq(conversations.department, operator.department) : undefined,
      eq(conversations.assignedAgent, operator.id),
    ),
  )!;
}

export type ConversationRow = typeof conversations.$inferSelect;

/** The conversation if it exists in the operator's tenant and is visible to them; null otherwise (callers: 404). */
export async function findVisibleConversation(
  db: Database,
  operator: Operator,
  id: string,
): Promise<ConversationRow | null> {
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, id), visibleTo(operator)));
  return row ?? null;
}

export async function listVisibleConversations(
  db: Database,
  operator: Operator,
  query: { status?: ConversationStatus; department?: string; limit: number },
) {
  const where: (SQL | undefined)[] = [visibleTo(operator)];
  if (query.status) where.push(eq(conversations.status, query.status));
  if (query.department) where.push(eq(conversations.department, query.department));
  return db
    .select({
      id: conversations.id,
      status: conversations.status,
      version: conversations.version,
      channel: conversations.channel,
      department: conversations.department,
      assignedAgent: conversations.assignedAgent,
      lastMessageAt: conversations.lastMessageAt,
      startedAt: conversations.startedAt,
      contact: { id: contacts.id, name: contacts.name, phone: contacts.phone },
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(...where))
    .orderBy(desc(conversations.updatedAt))
    .limit(query.limit);
}

/** The last `limit` messages of a conversation, oldest first, with sender, author, delivery status and media. */
export async function conversationMessages(db: Database, conversationId: string, limit = 100) {
  const rows = await db
    .select({
      id: messages.id,
      direction: messages.direction,
      sentBy: messages.sentBy,
      body: messages.body,
      media: messages.media,
      status: messages.status,
      errorCode: messages.errorCode,
      createdAt: messages.createdAt,
      statusUpdatedAt: messages.statusUpdatedAt,
      author: users.name,
      correlationId: messages.correlationId,
    })
    .from(messages)
    .leftJoin(users, eq(users.id, messages.authorId))
    .where(eq(messages.conversationId, conversationId))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit);
  return rows.reverse();
}

/**
 * Why the conversation went to HUMAN last (the state history's reason, e.g. `ai handoff: billing question`);
 * takeovers and reassignments within HUMAN are not handoffs.
 */
const handoffReason = sql<string | null>`(
  select ${conversationStateHistory.reason} from ${conversationStateHistory}
  where ${conversationStateHistory.conversationId} = ${conversations.id} and ${conversationStateHistory.toStatus} = 'HUMAN'
    and ${conversationStateHistory.fromStatus} is distinct from 'HUMAN'
  order by ${conversationStateHistory.createdAt} desc, ${conversationStateHistory.id} desc limit 1)`;

const agentUser = alias(users, 'agent_user');

/** The HUMAN queue the operator may see, oldest handoff first (the longest wait at the top). */
export async function humanQueue(db: Database, operator: Operator, limit = 200) {
  return db
    .select({
      id: conversations.id,
      channel: conversations.channel,
      department: conversations.department,
      transferredAt: conversations.transferredAt,
      lastMessageAt: conversations.lastMessageAt,
      assignedAgentId: conversations.assignedAgent,
      assignedAgentName: agentUser.name,
      contactId: contacts.id,
      contactName: contacts.name,
      contactPhone: contacts.phone,
      reason: handoffReason,
      waitingSince: conversations.waitingSince,
      slaDueAt: conversations.slaDueAt,
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .leftJoin(agentUser, eq(agentUser.id, conversations.assignedAgent))
    .where(and(visibleTo(operator), eq(conversations.status, 'HUMAN')))
    .orderBy(asc(sql`coalesce(${conversations.transferredAt}, ${conversations.updatedAt})`), asc(conversations.id))
    .limit(limit);
}
export type QueueRow = Awaited<ReturnType<typeof humanQueue>>[number];

/** A cheap fingerprint of the operator's HUMAN queue: changes when a conversation enters, leaves or changes. */
export async function humanQueueVersion(db: Database, operator: Operator): Promise<string> {
  const [row] = await db
    .select({
      n: sql<number>`count(*)::int`,
      v: sql<number>`coalesce(sum(${conversations.version}), 0)::bigint`,
      at: sql<string>`coalesce(max(${conversations.updatedAt})::text, '')`,
    })
    .from(conversations)
    .where(and(visibleTo(operator), eq(conversations.status, 'HUMAN')));
  return `${row?.n ?? 0}.${row?.v ?? 0}.${row?.at ?? ''}`;
}

/** A cheap fingerprint of one conversation (its version, its messages and their delivery statuses). */
export async function conversationVersion(db: Database, conversationId: string): Promise<string> {
  const [row] = await db
    .select({
      n: sql<number>`count(*)::int`,
      at: sql<string>`coalesce(max(coalesce(${messages.statusUpdatedAt}, ${messages.createdAt}))::text, '')`,
    })
    .from(messages)
    .where(eq(messages.conversationId, conversationId));
  const [conversation] = await db
    .select({ version: conversations.version })
    .from(conversations)
    .where(eq(conversations.id, conversationId));
  return `${conversation?.version ?? 0}.${row?.n ?? 0}.${row?.at ?? ''}`;
}

export async function contactOf(db: Database, contactId: string) {
  const [row] = await db.select().from(contacts).where(eq(contacts.id, contactId));
  return row ?? null;
}

/** Enabled agents (and supervisors) of the tenant, for reassigning. */
export async function tenantOperators(db: Database, tenantId: string) {
  return db
    .select({ id: users.id, name: users.name, role: users.role, department: users.department })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), isNull(users.disabledAt)))
    .orderBy(asc(users.name));
}

export async function findTenantOperator(db: Database, tenantId: string, userId: string) {
  const [row] = await db
    .select({ id: users.id, name: users.name, role: users.role, department: users.department })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId), isNull(users.disabledAt)));
  return row ?? null;
}

/** Every open conversation held by an agent, by agent (the supervisor's view). */
export async function openConversationsByAgent(db: Database, tenantId: string) {
  return db
    .select({
      agentId: users.id,
      agentName: users.name,
      agentDepartment: users.department,
      id: conversations.id,
      status: conversations.status,
      department: conversations.department,
      transferredAt: conversations.transferredAt,
      lastMessageAt: conversations.lastMessageAt,
      contactId: contacts.id,
      contactName: contacts.name,
      contactPhone: contacts.phone,
    })
    .from(conversations)
    .innerJoin(users, eq(users.id, conversations.assignedAgent))
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(
      and(
        eq(conversations.tenantId, tenantId),
        inArray(conversations.status, ['PENDING', 'PROGRESS', 'IDLE', 'HUMAN']),
      ),
    )
    .orderBy(asc(users.name), asc(conversations.transferredAt));
}

/** Alerts of the tenant: open ones first (newest first), then the last acknowledged ones. */
export async function listAlerts(db: Database, tenantId: string, options: { open: boolean; limit?: number }) {
  const acknowledger = alias(users, 'acknowledger');
  return db
    .select({
      id: alerts.id,
      type: alerts.type,
      severity: alerts.severity,
      message: alerts.message,
      conversationId: alerts.conversationId,
      createdAt: alerts.createdAt,
      resolvedAt: alerts.resolvedAt,
      resolvedByName: acknowledger.name,
    })
    .from(alerts)
    .leftJoin(acknowledger, eq(acknowledger.id, alerts.resolvedBy))
    .where(
      and(
        eq(alerts.tenantId, tenantId),
        options.open ? isNull(alerts.resolvedAt) : sql`${alerts.resolvedAt} is not null`,
      ),
    )
    .orderBy(options.open ? desc(alerts.createdAt) : desc(alerts.resolvedAt))
    .limit(options.limit ?? 200);
}

export async function openAlertsVersion(db: Database, tenantId: string): Promise<string> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int`, at: sql<string>`coalesce(max(${alerts.createdAt})::text, '')` })
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), isNull(alerts.resolvedAt)));
  return `${row?.n ?? 0}.${row?.at ?? ''}`;
}

/** Acknowledges an open alert of the tenant: resolved_at now, resolved_by the operator. False: none such open. */
export async function acknowledgeAlert(db: Database, tenantId: string, alertId: string, userId: string) {
  const rows = await db
    .update(alerts)
    .set({ resolvedAt: sql`now()`, resolvedBy: userId })
    .where(and(eq(alerts.id, alertId), eq(alerts.tenantId, tenantId), isNull(alerts.resolvedAt)))
    .returning({ id: alerts.id });
  return rows.length > 0;
}

/** AI turns that failed (after the responder's retries), newest first. */
export async function aiFailures(db: Database, tenantId: string, limit = 100) {
  return db
    .select({
      id: aiResults.id,
      conversationId: aiResults.conversationId,
      provider: aiResults.provider,
      model: aiResults.model,
      attempt: aiResults.attempt,
      error: aiResults.error,
      latencyMs: aiResults.latencyMs,
      createdAt: aiResults.createdAt,
    })
    .from(aiResults)
    .where(and(eq(aiResults.tenantId, tenantId), ne(aiResults.status, 'ok')))
    .orderBy(desc(aiResults.createdAt))
    .limit(limit);
}

/**
 * Orphaned inbound messages: Twilio delivered them for a number of the tenant's Twilio account that no tenant owns
 * (twilio-webhooks.ts stores them in orphan_inbound). Messages to accounts no tenant has cannot be attributed to a
 * tenant and are not listed here.
 */
export async function tenantOrphans(db: Database, tenantId: string, limit = 100) {
  return db
    .select({
      id: orphanInbound.id,
      messageSid: orphanInbound.messageSid,
      accountSid: orphanInbound.accountSid,
      toAddress: orphanInbound.toAddress,
      reason: orphanInbound.reason,
      receivedAt: orphanInbound.receivedAt,
      numMedia: sql<string | null>`${orphanInbound.payload}->>'NumMedia'`,
    })
    .from(orphanInbound)
    .innerJoin(twilioAccounts, eq(twilioAccounts.accountSid, orphanInbound.accountSid))
    .where(eq(twilioAccounts.tenantId, tenantId))
    .orderBy(desc(orphanInbound.receivedAt))
    .limit(limit);
}

/** Inbound messages of the tenant whose processing failed for good (inbound_failures). */
export async function tenantInboundFailures(db: Database, tenantId: string, limit = 100) {
  return db
    .select({
      id: inboundFailures.id,
      messageSid: inboundFailures.messageSid,
      stage: inboundFailures.stage,
      failureType: inboundFailures.failureType,
      reason: inboundFailures.reason,
      createdAt: inboundFailures.createdAt,
    })
    .from(inboundFailures)
    .where(eq(inboundFailures.tenantId, tenantId))
    .orderBy(desc(inboundFailures.createdAt))
    .limit(limit);
}

/**
 * Issue 18 A: the n-th media item Twilio delivered on an INBOUND message the operator may see, and the credentials
 * of the tenant's account it belongs to. The URL was recorded at receipt (signed webhook or Twilio's own Media
 * list); it is served only if it is exactly Twilio's media URL for this very message
 * (`<origin>/2010-04-01/Accounts/<AC>/Messages/<this message's SID>/Media/<ME…>`, nothing else: no query, no
 * userinfo), on one of `origins` (Twilio's API host, or the configured stand-in), and the account is the tenant's.
 * Outbound media (agent-supplied URLs) never qualify. Null for anything else.
 */
export async function inboundMediaForOperator(
  db: Database,
  operator: Operator,
  messageId: string,
  n: number,
  origins: readonly string[],
) {
  const [row] = await db
    .select({ media: messages.media, providerSid: messages.providerSid })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(
      and(
        eq(messages.id, messageId),
        eq(messages.tenantId, operator.tenantId),
        eq(messages.direction, 'inbound'),
        eq(messages.sentBy, 'customer'),
        visibleTo(operator),
      ),
    );
  const item = row?.media[n];
  if (!item || !row.providerSid) return null;
  const match =
    /^(https?:\/\/[^/?#@]+)\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/([A-Z]{2}[0-9a-f]{32})\/Media\/(ME[0-9a-f]{32})$/.exec(
      item.url,
    );
  if (!match) return null;
  const [, origin, accountSid, messageSid, mediaSid] = match as unknown as [string, string, string, string, string];
  if (messageSid !== row.providerSid || !origins.includes(origin)) return null;
  // Rebuilt from its parts and compared whole: what is fetched is exactly what was recorded.
  const url = `${origin}/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media/${mediaSid}`;
  if (url !== item.url || new URL(url).origin !== origin) return null;
  const account = await findAccount(db, accountSid);
  if (!account || account.tenantId !== operator.tenantId) return null;
  return { url, contentType: item.contentType, accountSid, authToken: account.authToken };
}

/** The department a handoff goes to when the AI named none. */
export async function tenantDefaultDepartment(db: Database, tenantId: string): Promise<string> {
  const [row] = await db
    .select({ department: tenants.defaultDepartment })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  return row?.department ?? 'support';
}

/** The reason of the conversation's last move into HUMAN (null if it never was); see handoffReason. */
export async function lastHandoffReason(db: Database, conversationId: string): Promise<string | null> {
  const [row] = await db
    .select({ reason: conversationStateHistory.reason })
    .from(conversationStateHistory)
    .where(
      and(
        eq(conversationStateHistory.conversationId, conversationId),
        eq(conversationStateHistory.toStatus, 'HUMAN'),
        sql`${conversationStateHistory.fromStatus} is distinct from 'HUMAN'`,
      ),
    )
    .orderBy(desc(conversationStateHistory.createdAt), desc(conversationStateHistory.id))
    .limit(1);
  return row?.reason ?? null;
}

/** Open conversations assigned to the operator, oldest handoff first. */
export async function assignedTo(db: Database, operator: Operator) {
  return db
    .select({
      id: conversations.id,
      status: conversations.status,
      channel: conversations.channel,
      department: conversations.department,
      transferredAt: conversations.transferredAt,
      lastMessageAt: conversations.lastMessageAt,
      contactName: contacts.name,
      contactPhone: contacts.phone,
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(
      and(
        eq(conversations.tenantId, operator.tenantId),
        eq(conversations.assignedAgent, operator.id),
        inArray(conversations.status, ['PENDING', 'PROGRESS', 'IDLE', 'HUMAN']),
      ),
    )
    .orderBy(asc(conversations.transferredAt));
}

/** Issue 21 D: messages toward customers lost for good (a permanent Twilio error, at the send or in a status callback). */
export async function sendFailures(db: Database, tenantId: string, limit = 100) {
  return db
    .select({
      id: alerts.id,
      type: alerts.type,
      message: alerts.message,
      conversationId: alerts.conversationId,
      payload: alerts.payload,
      createdAt: alerts.createdAt,
    })
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenantId), inArray(alerts.type, ['delivery_failed', 'window_closed'])))
    .orderBy(desc(alerts.createdAt))
    .limit(limit);
}
