// `npm run bench -- reports`: the desk report (issue 20 F) over 100k conversations. Bulk SQL (generate_series) fills a
// fresh database on TEST_DATABASE_URL — conversations over 30 days, a third handed to an agent with an answer, SLA
// alerts and NPS answers — then times `deskReport` over the 30 days (the median of 5 runs after one warm-up).
// Bar: under 1 s on this machine (issue 20), an absolute figure since there is no baseline to divide by.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Env } from '../src/config/env';
import { createDb } from '../src/db/core/client';
import { runMigrations } from '../src/db/core/migrate';
import { campaignReport, deskReport } from '../src/db/conversations/reports';
import { figure } from './figures';

export async function benchReports(env: Env, print: (line: string) => void, options: { n?: number } = {}) {
  const n = options.n ?? 100_000;
  const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined, connect_timeout: 3 });
  const name = `causeway_bench_reports_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(env.TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = createDb(url.toString(), { max: 2 });
  try {
    await runMigrations(url.toString());
    // The tenant row alone: the report reads no Twilio account (and a bare row needs no secrets keyring).
    const [tenant] = await database.sql<{ id: string }[]>`insert into tenants (slug, name, hash_key)
      values ('bench-reports', 'bench reports', ${randomBytes(32).toString('hex')}) returning id`;
    if (!tenant) throw new Error('no tenant row');
    const sql = database.sql;
    const t0 = performance.now();
    await sql`insert into users (tenant_id, name, role, department)
      select ${tenant.id}, 'agent ' || i, 'AGENT', case when i % 2 = 0 then 'support' else 'billing' end
      from generate_series(1, 20) i`;
    await sql`insert into contacts (tenant_id, phone, phone_hash, name)
      select ${tenant.id}, '+55119' || lpad(i::text, 8, '0'), md5(i::text), 'Cliente ' || i
      from generate_series(1, ${n}) i`;
    // Conversation i: started i × (30 days / n) ago; a third handed to agent (i % 20); ended unless i % 7 = 0.
    await sql`with a as (select id, row_number() over (order by name) - 1 as k from users where tenant_id = ${tenant.id}),
      c as (select id, row_number() over (order by phone) as i from contacts where tenant_id = ${tenant.id})
      insert into conversations (tenant_id, contact_id, channel, status, workflow_id, department, assigned_agent,
                                 started_at, transferred_at, closed_at, resolved_by)
      select ${tenant.id}, c.id, 'whatsapp',
             (case when c.i % 7 = 0 then 'PROGRESS' when c.i % 3 = 0 then 'RESOLVED' else 'CLOSED' end)::conversation_status,
             'bench:' || c.i, case when c.i % 2 = 0 then 'support' else 'billing' end,
             case when c.i % 3 = 0 then a.id end,
             now() - (c.i * interval '30 days' / ${n}),
             case when c.i % 3 = 0 then now() - (c.i * interval '30 days' / ${n}) + interval '2 minutes' end,
             case when c.i % 7 <> 0 then now() - (c.i * interval '30 days' / ${n}) + (c.i % 500) * interval '1 minute' end,
             case when c.i % 7 <> 0 then case when c.i % 3 = 0 then 'human' else 'ai' end end
      from c join a on a.k = c.i % 20`;
    // Two messages per conversation, and the agent's answer in handed-off ones.
    await sql`insert into messages (tenant_id, conversation_id, contact_id, direction, channel, from_address, to_address,
                                    body, sent_by, status, correlation_id, created_at)
      select c.tenant_id, c.id, c.contact_id, 'inbound'::message_direction, 'whatsapp'::channel, 'whatsapp:x', 'whatsapp:y', 'olá, minha fatura',
             'customer', 'received', 'bench', c.started_at from conversations c where c.tenant_id = ${tenant.id}
      union all
      select c.tenant_id, c.id, c.contact_id, 'outbound'::message_direction, 'whatsapp'::channel, 'whatsapp:y', 'whatsapp:x', 'resposta',
             'ai', 'delivered', 'bench', c.started_at + interval '5 seconds' from conversations c where c.tenant_id = ${tenant.id}
      union all
      select c.tenant_id, c.id, c.contact_id, 'outbound'::message_direction, 'whatsapp'::channel, 'whatsapp:y', 'whatsapp:x', 'agente',
             'agent', 'delivered', 'bench', c.transferred_at + (extract(epoch from c.started_at)::int % 1800) * interval '1 second'
      from conversations c where c.tenant_id = ${tenant.id} and c.transferred_at is not null`;
    await sql`insert into alerts (tenant_id, conversation_id, type, severity, message, created_at)
      select tenant_id, id, 'sla_breached', 'high', 'first response SLA', transferred_at + interval '15 minutes'
      from conversations where tenant_id = ${tenant.id} and transferred_at is not null
        and extract(epoch from started_at)::int % 4 = 0`;
    await sql`insert into satisfaction_feedback (tenant_id, conversation_id, contact_id, score, category, resolved_by, created_at)
      select tenant_id, id, contact_id, extract(epoch from started_at)::int % 11,
             case when extract(epoch from started_at)::int % 11 >= 9 then 'promoter'
                  when extract(epoch from started_at)::int % 11 >= 7 then 'neutral' else 'detractor' end,
             resolved_by, closed_at
      from conversations where tenant_id = ${tenant.id} and closed_at is not null and extract(epoch from started_at)::int % 2 = 0`;
    await sql`analyze`;
    print(`Reports: ${n} conversations inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const query = {
      tenantId: tenant.id,
      since: new Date(Date.now() - 31 * 86_400_000),
      until: new Date(Date.now() + 60_000),
      timeZone: 'America/Sao_Paulo',
    };
    const time = async (run: () => Promise<unknown>) => {
      await run();
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const rows = await deskReport(database.db, query);
    const total = rows.find((r) => r.level === 'total');
    if (total?.conversations !== n)
      throw new Error(`desk report counted ${total?.conversations} of ${n} conversations`);
    figure(
      'reports',
      `desk report, ${n} conversations over 30 days (${rows.length} lines)`,
      await time(() => deskReport(database.db, query)),
      'ms',
      null,
      {
        of: 'value',
        op: '<=',
        limit: 1000,
      },
    );
    figure(
      'reports',
      `desk report, one department (${n / 2} conversations)`,
      await time(() => deskReport(database.db, { ...query, department: 'support' })),
      'ms',
      null,
      { of: 'value', op: '<=', limit: 1000 },
    );
    figure(
      'reports',
      'campaign report (no campaign: the query floor)',
      await time(() => campaignReport(database.db, query)),
      'ms',
    );
  } finally {
    await database.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
