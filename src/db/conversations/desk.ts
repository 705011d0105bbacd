import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { AgentRef } from '../../contract';
import { parseActiveHours } from '../../domain/active-hours';
import type { DeskSchedule } from '../../domain/desk-hours';
import type { Database, DbOrTx } from '../core/client';
import { conversations, conversationTransfers, deskSettings, users } from '../schema';

/** One row of desk settings: a tenant's (department null) or a department's; null fields inherit. */
export interface DeskSettingsRow {
  department: string | null;
  timeZone: string | null;
  hours: string | null;
  holidays: string[] | null;
  closedDates: string[] | null;
  firstResponseSlaMs: number | null;
  nextResponseSlaMs: number | null;
}

/** The settings that apply to a department: its row over the tenant's row, field by field. */
export interface DeskPolicy {
  /** null: no hours set, the desk is always open. */
  schedule: DeskSchedule | null;
  firstResponseSlaMs: number | null;
  nextResponseSlaMs: number | null;
  locale: string;
}

const SETTINGS_COLUMNS = {
  department: deskSettings.department,
  timeZone: deskSettings.timeZone,
  hours: deskSettings.hours,
  holidays: deskSettings.holidays,
  closedDates: deskSettings.closedDates,
  firstResponseSlaMs: deskSettings.firstResponseSlaMs,
  nextResponseSlaMs: deskSettings.nextResponseSlaMs,
};

/** Merges a department's row over the tenant's (null fields inherit). Stored specs were validated when set. */
export function resolveDeskPolicy(rows: DeskSettingsRow[], department: string | null, locale: string): DeskPolicy {
  const tenantRow = rows.find((r) => r.department === null);
  const own = department ? rows.find((r) => r.department === department) : undefined;
  const pick = <K extends keyof DeskSettingsRow>(key: K) => own?.[key] ?? tenantRow?.[key] ?? null;
  const hours = pick('hours');
  const timeZone = pick('timeZone');
  return {
    schedule:
      hours && timeZone
        ? {
            timeZone,
            hours: parseActiveHours(hours),
            holidays: pick('holidays') ?? [],
            closedDates: pick('closedDates') ?? [],
          }
        : null,
    firstResponseSlaMs: pick('firstResponseSlaMs'),
    nextResponseSlaMs: pick('nextResponseSlaMs'),
    locale,
  };
}

/** The desk settings of a conversation's department (one statement), with the department and the tenant's locale. */
export async function loadDeskPolicyForConversation(
  db: DbOrTx,
  conversationId: string,
): Promise<(DeskPolicy & { tenantId: string; department: string | null }) | null> {
  const rows = await db.execute<{
    tenant_id: string;
    conversation_department: string | null;
    locale: string;
    settings: {
      department: string | null;
      time_zone: string | null;
      hours: string | null;
      holidays: string[] | null;
      closed_dates: string[] | null;
      first_response_sla_ms: number | null;
      next_response_sla_ms: number | null;
    }[];
  }>(sql`
    select c.tenant_id, c.department as conversation_department, t.locale,
      coalesce((select json_agg(json_build_object('department', d.department, 'time_zone', d.time_zone,
          'hours', d.hours, 'holidays', d.holidays, 'closed_dates', d.closed_dates,
          'first_response_sla_ms', d.first_response_sla_ms, 'next_response_sla_ms', d.next_response_sla_ms))
        from desk_settings d
        where d.tenant_id = c.tenant_id and (d.department is null or d.department = c.department)), '[]'::json)
        as settings
    from conversations c join tenants t on t.id = c.tenant_id
    where c.id = ${conversationId}
  `);
  const row = rows[0];
  if (!row) return null;
  const settings: DeskSettingsRow[] = row.settings.map((d) => ({
    department: d.department,
    timeZone: d.time_zone,
    hours: d.hours,
    holidays: d.holidays,
    closedDates: d.closed_dates,
    firstResponseSlaMs: d.first_response_sla_ms,
    nextResponseSlaMs: d.next_response_sla_ms,
  }));
  return {
    ...resolveDeskPolicy(settings, row.conversation_department, row.locale),
    tenantId: row.tenant_id,
    department: row.conversation_department,
  };
}

export async function listDeskSettings(db: DbOrTx, tenantId: string): Promise<DeskSettingsRow[]> {
  return await db
    .select(SETTINGS_COLUMNS)
    .from(deskSettings)
    .where(eq(deskSettings.tenantId, tenantId))
    .orderBy(sql`${deskSettings.department} nulls first`);
}

/** Sets some fields of a tenant's or department's desk settings (undefined: unchanged, null: inherit again). */
export async function setDeskSettings(
  db: DbOrTx,
  tenantId: string,
  department: string | null,
  patch: Partial<Omit<DeskSettingsRow, 'department'>>,
): Promise<DeskSettingsRow> {
  const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const [row] = await db
    .insert(deskSettings)
    .values({ tenantId, department, ...values })
    .onConflictDoUpdate({
      target: [deskSettings.tenantId, deskSettings.department],
      set: { ...values, updatedAt: sql`now()` },
    })
    .returning(SETTINGS_COLUMNS);
  return row as DeskSettingsRow;
}

/** A waiting period starts (since, SLA deadline) or ends (nulls): what the console's queue shows. HUMAN rows only. */
export async function setDeskWait(
  db: DbOrTx,
  conversationId: string,
  wait: { since: Date; slaDueAt: Date | null } | null,
): Promise<void> {
  await db
    .update(conversations)
    .set({ waitingSince: wait?.since ?? null, slaDueAt: wait?.slaDueAt ?? null })
    .where(and(eq(conversations.id, conversationId), eq(conversations.status, 'HUMAN')));
}

/**
 * One `sla_breached` alert per waiting period (ONE statement): the period is named by its start, and an alert for
 * the same conversation and start is never written twice, so a re-run of the activity raises nothing more.
 */
export async function raiseSlaBreach(
  db: DbOrTx,
  input: { conversationId: string; kind: 'first' | 'next'; since: Date; dueAt: Date },
): Promise<{ raised: boolean; tenantId: string | null; department: string | null }> {
  const since = input.since.toISOString();
  const rows = await db.execute<{ tenant_id: string; department: string | null; raised: boolean }>(sql`
    with c as (
      select id, tenant_id, department from conversations where id = ${input.conversationId}
    ),
    ins as (
      insert into alerts (tenant_id, conversation_id, type, severity, message, payload)
      select c.tenant_id, c.id, 'sla_breached', 'high',
        ${input.kind === 'first' ? 'No agent answered within the first-response SLA' : 'No agent answered within the next-response SLA'}
          || coalesce(' (' || c.department || ')', ''),
        jsonb_build_object('kind', ${input.kind}::text, 'waitingSince', ${since}::text,
          'dueAt', ${input.dueAt.toISOString()}::text, 'department', c.department)
      from c
      where not exists (
        select 1 from alerts a where a.conversation_id = c.id and a.type = 'sla_breached'
          and a.payload->>'waitingSince' = ${since}::text
      )
      returning id
    )
    select c.tenant_id, c.department, exists (select 1 from ins) as raised from c
  `);
  const row = rows[0];
  return { raised: row?.raised ?? false, tenantId: row?.tenant_id ?? null, department: row?.department ?? null };
}

/**
 * Automatic assignment (issue 20 D), ONE transaction under a per-department advisory lock (so two conversations
 * queued at once cannot both take an agent's last free seat): among the department's enabled agents who are online
 * with a live session, those below their capacity of open conversations; the least loaded first, ties by the one
 * assigned longest ago (round robin). The conversation gets the agent (a HUMAN → HUMAN transition with its history
 * row); null when it is not waiting unassigned, or nobody is free.
 */
export async function assignFromQueue(
  db: Database,
  input: { conversationId: string; actor: string },
): Promise<{ agent: AgentRef; version: number } | null> {
  return db.transaction(async (tx) => {
    const [conv] = await tx
      .select({
        tenantId: conversations.tenantId,
        department: conversations.department,
        status: conversations.status,
        version: conversations.version,
        agent: { id: users.id, name: users.name },
      })
      .from(conversations)
      .leftJoin(users, eq(users.id, conversations.assignedAgent))
      .where(eq(conversations.id, input.conversationId));
    if (!conv || conv.status !== 'HUMAN') return null;
    // Run twice (a local activity after a lost worker): the first run's assignment is the answer.
    if (conv.agent) return { agent: conv.agent, version: conv.version };
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext('desk-assign:' || ${conv.tenantId}::text || ':' || coalesce(${conv.department}::text, '')))`,
    );
    const candidates = await tx.execute<{ id: string; name: string }>(sql`
      select u.id, u.name from users u
      where u.tenant_id = ${conv.tenantId} and u.disabled_at is null and u.presence = 'online'
        and u.department is not distinct from ${conv.department}::text
        and exists (select 1 from operator_sessions s where s.user_id = u.id and s.revoked_at is null and s.expires_at > now())
        and (select count(*) from conversations c where c.assigned_agent = u.id and c.status = 'HUMAN') < u.capacity
      order by (select count(*) from conversations c where c.assigned_agent = u.id and c.status = 'HUMAN'),
        u.last_assigned_at asc nulls first, u.id
      limit 1
    `);
    const agent = candidates[0];
    if (!agent) return null;
    const [updated] = await tx
      .update(conversations)
      .set({ assignedAgent: agent.id, version: sql`${conversations.version} + 1`, updatedAt: sql`now()` })
      .where(
        and(
          eq(conversations.id, input.conversationId),
          eq(conversations.status, 'HUMAN'),
          isNull(conversations.assignedAgent),
        ),
      )
      .returning({ version: conversations.version });
    if (!updated) return null;
    await tx.execute(sql`
      insert into conversation_state_history (conversation_id, from_status, to_status, version, reason, actor)
      values (${input.conversationId}, 'HUMAN', 'HUMAN', ${updated.version}, 'assigned automatically', ${input.actor})
    `);
    await tx
      .update(users)
      .set({ lastAssignedAt: sql`now()` })
      .where(eq(users.id, agent.id));
    return { agent: { id: agent.id, name: agent.name }, version: updated.version };
  });
}

/** Conversations of a department waiting unassigned, the longest wait first (what an agent coming online gets). */
export async function queuedConversations(db: DbOrTx, tenantId: string, department: string | null, limit: number) {
  return db
    .select({ id: conversations.id, workflowId: conversations.workflowId })
    .from(conversations)
    .where(
      and(
        eq(conversations.tenantId, tenantId),
        eq(conversations.status, 'HUMAN'),
        isNull(conversations.assignedAgent),
        department === null ? isNull(conversations.department) : eq(conversations.department, department),
      ),
    )
    .orderBy(asc(sql`coalesce(${conversations.waitingSince}, ${conversations.transferredAt})`))
    .limit(limit);
}

export type Presence = 'online' | 'away' | 'offline';

/** Sets an operator's presence (and capacity); returns their department, or null when not the tenant's user. */
export async function setPresence(
  db: DbOrTx,
  tenantId: string,
  userId: string,
  presence: Presence,
): Promise<{ department: string | null } | null> {
  const [row] = await db
    .update(users)
    .set({ presence, presenceAt: sql`now()` })
    .where(and(eq(users.id, userId), eq(users.tenantId, tenantId)))
    .returning({ department: users.department });
  return row ?? null;
}

export async function setCapacity(db: DbOrTx, tenantId: string, userId: string, capacity: number): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ capacity })
    .where(and(eq(users.id, userId), eq(users.tenantId, tenantId)))
    .returning({ id: users.id });
  return rows.length > 0;
}

/** An operator's presence as it counts for assignment: `online` needs a live console session too. */
export async function presenceOf(db: DbOrTx, userId: string) {
  const rows = await db.execute<{ presence: Presence; capacity: number; open: number; live: boolean }>(sql`
    select u.presence, u.capacity,
      (select count(*)::int from conversations c where c.assigned_agent = u.id and c.status = 'HUMAN') as open,
      exists (select 1 from operator_sessions s where s.user_id = u.id and s.revoked_at is null
        and s.expires_at > now()) as live
    from users u where u.id = ${userId}
  `);
  const row = rows[0];
  if (!row) return null;
  return { ...row, presence: row.presence === 'online' && !row.live ? ('offline' as const) : row.presence };
}

/**
 * A transfer (issue 20 D), ONE transaction: the conversation moves to another department and/or agent (version + 1,
 * a HUMAN → HUMAN history row) and the transfer is kept with its note. null when the conversation is not HUMAN at
 * `expectedVersion`.
 */
export async function transferConversation(
  db: Database,
  input: {
    conversationId: string;
    expectedVersion: number;
    toDepartment: string | null;
    toAgent: AgentRef | null;
    note: string | null;
    actor: string;
  },
): Promise<{ version: number; department: string | null } | null> {
  return db.transaction(async (tx) => {
    const [cur] = await tx
      .select({
        tenantId: conversations.tenantId,
        department: conversations.department,
        assignedAgent: conversations.assignedAgent,
        version: conversations.version,
        status: conversations.status,
      })
      .from(conversations)
      .where(eq(conversations.id, input.conversationId))
      .for('update');
    if (!cur || cur.status !== 'HUMAN' || cur.version !== input.expectedVersion) return null;
    const department = input.toDepartment ?? cur.department;
    const [updated] = await tx
      .update(conversations)
      .set({
        department,
        assignedAgent: input.toAgent?.id ?? null,
        version: cur.version + 1,
        updatedAt: sql`now()`,
      })
      .where(eq(conversations.id, input.conversationId))
      .returning({ version: conversations.version });
    const target = input.toAgent ? `agent ${input.toAgent.name}` : `department ${department ?? '(none)'}`;
    await tx.execute(sql`
      insert into conversation_state_history (conversation_id, from_status, to_status, version, reason, actor)
      values (${input.conversationId}, 'HUMAN', 'HUMAN', ${updated!.version}, ${`transferred to ${target}`}, ${input.actor})
    `);
    await tx.insert(conversationTransfers).values({
      tenantId: cur.tenantId,
      conversationId: input.conversationId,
      fromDepartment: cur.department,
      toDepartment: department,
      fromAgent: cur.assignedAgent,
      toAgent: input.toAgent?.id ?? null,
      note: input.note,
      actor: input.actor,
    });
    return { version: updated!.version, department };
  });
}

export async function listTransfers(db: DbOrTx, conversationId: string) {
  return db
    .select({
      fromDepartment: conversationTransfers.fromDepartment,
      toDepartment: conversationTransfers.toDepartment,
      fromAgent: conversationTransfers.fromAgent,
      toAgent: conversationTransfers.toAgent,
      toAgentName: users.name,
      note: conversationTransfers.note,
      actor: conversationTransfers.actor,
      createdAt: conversationTransfers.createdAt,
    })
    .from(conversationTransfers)
    .leftJoin(users, eq(users.id, conversationTransfers.toAgent))
    .where(eq(conversationTransfers.conversationId, conversationId))
    .orderBy(asc(conversationTransfers.createdAt));
}
