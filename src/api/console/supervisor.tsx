/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import {
  acknowledgeAlert,
  aiFailures,
  sendFailures,
  listAlerts,
  openAlertsVersion,
  openConversationsByAgent,
  tenantInboundFailures,
  tenantOrphans,
} from '../../db/conversations/console';
import type { AppDeps } from '../context';
import { ActionForm, page, time, waited, TableHead } from './layout';
import { Live, liveFragment } from './live';
import { done, requireConsoleRole, type ConsoleEnv } from './session';

type AlertRow = Awaited<ReturnType<typeof listAlerts>>[number];

const conversationLink = (id: string | null) =>
  id ? <a href={`/console/conversations/${id}`}>conversation</a> : <span class="muted">—</span>;

/** Supervisors (and admins): alerts with acknowledge, AI failures, orphaned inbound messages, agents' conversations. */
export function supervisorPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const { db } = deps;
  const supervisor = requireConsoleRole('SUPERVISOR');
  for (const path of ['/alerts', '/alerts/*', '/live/alerts', '/failures', '/orphans', '/agents'])
    app.use(path, supervisor);

  const OpenAlerts = ({ rows, csrf }: { rows: AlertRow[]; csrf: (action: string) => unknown }) =>
    rows.length === 0 ? (
      <p class="empty">No open alert.</p>
    ) : (
      <table id="open-alerts">
        <TableHead cols={['Raised', 'Severity', 'Type', 'What', '']} />
        <tbody>
          {rows.map((a) => (
            <tr data-alert-id={a.id}>
              <td data-label="Raised">{time(a.createdAt)}</td>
              <td data-label="Severity">
                <span class={`badge ${a.severity}`}>{a.severity}</span>
              </td>
              <td data-label="Type">{a.type}</td>
              <td data-label="What">
                {a.message} {conversationLink(a.conversationId)}
              </td>
              <td>{csrf(`/console/alerts/${a.id}/acknowledge`)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );

  app.get('/alerts', async (c) => {
    const tenantId = c.get('operator').tenantId;
    const [open, closed, version] = await Promise.all([
      listAlerts(db, tenantId, { open: true }),
      listAlerts(db, tenantId, { open: false, limit: 30 }),
      openAlertsVersion(db, tenantId),
    ]);
    const ack = (action: string) => (
      <ActionForm c={c} action={action}>
        <button type="submit" class="acknowledge secondary">
          Acknowledge
        </button>
      </ActionForm>
    );
    return page(
      c,
      'Alerts',
      <section>
        <h1>Open alerts</h1>
        <Live id="alerts-live" src="/console/live/alerts" version={version}>
          <OpenAlerts rows={open} csrf={ack} />
        </Live>
        <h2>Recently acknowledged</h2>
        {closed.length === 0 ? (
          <p class="empty">None.</p>
        ) : (
          <table id="acknowledged-alerts">
            <tbody>
              {closed.map((a) => (
                <tr data-alert-id={a.id}>
                  <td data-label="Raised">{time(a.createdAt)}</td>
                  <td data-label="Type">{a.type}</td>
                  <td data-label="What">{a.message}</td>
                  <td data-label="Acknowledged">
                    {time(a.resolvedAt)} {a.resolvedByName ? `by ${a.resolvedByName}` : '(by the system)'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>,
    );
  });
  app.get('/live/alerts', (c) => {
    const tenantId = c.get('operator').tenantId;
    return liveFragment(
      c,
      () => openAlertsVersion(db, tenantId),
      async () => (
        <OpenAlerts
          rows={await listAlerts(db, tenantId, { open: true })}
          csrf={(action) => (
            <ActionForm c={c} action={action}>
              <button type="submit" class="acknowledge secondary">
                Acknowledge
              </button>
            </ActionForm>
          )}
        />
      ),
    );
  });
  app.post('/alerts/:id/acknowledge', async (c) => {
    const id = c.req.param('id');
    const operator = c.get('operator');
    const ok = /^[0-9a-f-]{36}$/i.test(id) && (await acknowledgeAlert(db, operator.tenantId, id, operator.id));
    return ok
      ? done(c, '/console/alerts', 'ok', 'Alert acknowledged.')
      : done(c, '/console/alerts', 'error', 'That alert is not open (already acknowledged?).');
  });

  app.get('/failures', async (c) => {
    const tenantId = c.get('operator').tenantId;
    const [rows, inbound, sends] = await Promise.all([
      aiFailures(db, tenantId),
      tenantInboundFailures(db, tenantId),
      sendFailures(db, tenantId),
    ]);
    return page(
      c,
      'AI failures',
      <section>
        <h1>AI turns that failed</h1>
        {rows.length === 0 ? (
          <p class="empty">No failed AI turn.</p>
        ) : (
          <table id="ai-failures">
            <TableHead cols={['When', 'Model', 'Error', '']} />
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td data-label="When">{time(r.createdAt)}</td>
                  <td data-label="Model">{`${r.provider}/${r.model} (attempt ${r.attempt})`}</td>
                  <td data-label="Error">{r.error ?? '—'}</td>
                  <td>{conversationLink(r.conversationId)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Messages to customers that could not be sent or delivered</h2>
        {sends.length === 0 ? (
          <p class="empty">None.</p>
        ) : (
          <table id="send-failures">
            <tbody>
              {sends.map((r) => (
                <tr>
                  <td data-label="When">{time(r.createdAt)}</td>
                  <td data-label="Failure">{r.message}</td>
                  <td data-label="Message">{typeof r.payload.messageId === 'string' ? r.payload.messageId : '—'}</td>
                  <td>{r.conversationId ? conversationLink(r.conversationId) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Inbound messages that could not be processed</h2>
        {inbound.length === 0 ? (
          <p class="empty">None.</p>
        ) : (
          <table id="inbound-failures">
            <tbody>
              {inbound.map((r) => (
                <tr>
                  <td data-label="When">{time(r.createdAt)}</td>
                  <td data-label="Stage">{r.stage}</td>
                  <td data-label="Failure">{`${r.failureType}: ${r.reason}`}</td>
                  <td data-label="MessageSid">{r.messageSid}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>,
    );
  });

  app.get('/orphans', async (c) => {
    const rows = await tenantOrphans(db, c.get('operator').tenantId);
    return page(
      c,
      'Orphans',
      <section>
        <h1>Orphaned inbound messages</h1>
        <p class="muted">
          Messages Twilio delivered to a number of your Twilio account that no tenant owns: nobody answered them. Assign
          the number to a tenant (causeway tenant update) for the next ones.
        </p>
        {rows.length === 0 ? (
          <p class="empty">No orphaned message.</p>
        ) : (
          <table id="orphans">
            <TableHead cols={['Received', 'To', 'Reason', 'MessageSid']} />
            <tbody>
              {rows.map((r) => (
                <tr data-message-sid={r.messageSid}>
                  <td data-label="Received">{time(r.receivedAt)}</td>
                  <td data-label="To">{r.toAddress}</td>
                  <td data-label="Reason">{r.reason}</td>
                  <td data-label="MessageSid">{r.messageSid}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>,
    );
  });

  app.get('/agents', async (c) => {
    const rows = await openConversationsByAgent(db, c.get('operator').tenantId);
    const now = deps.clock?.() ?? new Date();
    return page(
      c,
      'Agents',
      <section>
        <h1>Open conversations by agent</h1>
        {rows.length === 0 ? (
          <p class="empty">No agent holds an open conversation.</p>
        ) : (
          <table id="agents">
            <TableHead cols={['Agent', 'Contact', 'Status', 'Since handoff', 'Department', '']} />
            <tbody>
              {rows.map((r) => (
                <tr data-agent-id={r.agentId}>
                  <td data-label="Agent">{r.agentName}</td>
                  <td data-label="Contact">
                    <a href={`/console/conversations/${r.id}`}>{r.contactName ?? r.contactPhone}</a>
                  </td>
                  <td data-label="Status">
                    <span class={`badge ${r.status}`}>{r.status}</span>
                  </td>
                  <td data-label="Since handoff">{waited(r.transferredAt, now)}</td>
                  <td data-label="Department">{r.department ?? '—'}</td>
                  <td>
                    <a href={`/journey?phone=${encodeURIComponent(r.contactPhone)}`}>journey</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>,
    );
  });
}
