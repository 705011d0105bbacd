import { randomUUID } from 'node:crypto';
import { alerts, contacts, conversations, messages, satisfactionFeedback } from '../../src/db/schema';
import { contactHash } from '../../src/domain/contact-hash';
import { tenantHashKey } from '../../src/db/ingress/inbound';
import type { Harness, TestTenant } from './harness';

/** Rows written straight into the tables (issue 20 search and report tests): what the figures are computed from. */
export interface SeededConversation {
  id: string;
  contactId: string;
  phone: string;
  name: string | null;
  status: 'PENDING' | 'PROGRESS' | 'IDLE' | 'HUMAN' | 'RESOLVED' | 'CLOSED' | 'EXPIRED';
  department: string | null;
  agentId: string | null;
  startedAt: Date;
  transferredAt: Date | null;
  firstAgentAt: Date | null;
  closedAt: Date | null;
  slaBreaches: number;
  nps: number | null;
}

/** The tenant's contact-hash key, opened (it is sealed at rest since issue 18 H). */
export async function hashKeyOf(h: Harness, tenant: TestTenant) {
  return (await tenantHashKey(h.db, tenant.tenantId))!;
}

/** Inserts a contact (phone unique per tenant) and a conversation with its messages, alerts and NPS answer. */
export async function seedConversation(
  h: Harness,
  tenant: TestTenant,
  c: Omit<SeededConversation, 'id' | 'contactId'> & { bodies?: string[]; contactId?: string },
): Promise<SeededConversation> {
  const key = await hashKeyOf(h, tenant);
  let contactId = c.contactId;
  if (!contactId) {
    const [contact] = await h.db
      .insert(contacts)
      .values({ tenantId: tenant.tenantId, phone: c.phone, phoneHash: contactHash(key, c.phone), name: c.name })
      .returning({ id: contacts.id });
    contactId = contact!.id;
  }
  const id = randomUUID();
  await h.db.insert(conversations).values({
    id,
    tenantId: tenant.tenantId,
    contactId,
    channel: 'whatsapp',
    status: c.status,
    workflowId: `seeded:${id}`,
    department: c.department,
    assignedAgent: c.agentId,
    startedAt: c.startedAt,
    transferredAt: c.transferredAt,
    closedAt: c.closedAt,
    resolvedBy: c.closedAt ? (c.transferredAt ? 'human' : 'ai') : null,
    lastMessageAt: c.startedAt,
  });
  const base = {
    tenantId: tenant.tenantId,
    conversationId: id,
    contactId,
    channel: 'whatsapp' as const,
    fromAddress: `whatsapp:${c.phone}`,
    toAddress: tenant.address,
    correlationId: `seed:${id}`,
  };
  const rows: (typeof messages.$inferInsert)[] = (c.bodies ?? []).map((body, i) => ({
    ...base,
    direction: 'inbound' as const,
    sentBy: 'customer' as const,
    status: 'received',
    body,
    createdAt: new Date(c.startedAt.getTime() + i * 1000),
  }));
  if (c.firstAgentAt) {
    // An agent message before the handoff does not count; the first after it does, and a later one does not.
    rows.push(
      {
        ...base,
        direction: 'outbound',
        sentBy: 'agent',
        authorId: c.agentId,
        status: 'delivered',
        body: 'agent',
        createdAt: c.firstAgentAt,
      },
      {
        ...base,
        direction: 'outbound',
        sentBy: 'agent',
        authorId: c.agentId,
        status: 'delivered',
        body: 'agent again',
        createdAt: new Date(c.firstAgentAt.getTime() + 60_000),
      },
    );
  }
  if (rows.length) await h.db.insert(messages).values(rows);
  for (let i = 0; i < c.slaBreaches; i++)
    await h.db.insert(alerts).values({
      tenantId: tenant.tenantId,
      conversationId: id,
      type: 'sla_breached',
      severity: 'high',
      message: 'first response SLA breached',
      createdAt: new Date(c.startedAt.getTime() + 3_600_000),
    });
  if (c.nps !== null)
    await h.db.insert(satisfactionFeedback).values({
      tenantId: tenant.tenantId,
      conversationId: id,
      contactId,
      score: c.nps,
      category: c.nps >= 9 ? 'promoter' : c.nps >= 7 ? 'neutral' : 'detractor',
      resolvedBy: c.transferredAt ? 'human' : 'ai',
      createdAt: c.closedAt ?? c.startedAt,
    });
  return { ...c, id, contactId };
}

/** percentile_cont: linear interpolation between the closest ranks (PostgreSQL's definition). */
export function percentileCont(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
