/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { DEPARTMENT_NAME } from '../../db/operators/admin';
import {
  addDepartment,
  addUser,
  issueKey,
  listDepartments,
  listTemplates,
  listUsers,
  revokeKey,
  setDefaultDepartment,
  setTemplate,
  setUserAccess,
} from '../../services/admin';
import { ServiceError, type ServiceErrorCode } from '../../services/errors';
import { listPromptVersions, tenantAssistantType, type PromptVersionRow } from '../../db/knowledge/prompts';
import { activatePrompt, addPrompt, findPrompt, rollBackPrompt } from '../../services/prompts';
import { hasRole, type Role } from '../../domain/api-keys';
import { diffLines } from '../../domain/line-diff';
import { asApiError } from '../errors';
import { noteAudit } from '../audit';
import type { AppDeps } from '../context';
import { ActionForm, page, time, TableHead } from './layout';
import { done, type ConsoleContext, type ConsoleEnv } from './session';

const ROLES: Role[] = ['AGENT', 'SUPERVISOR', 'ADMIN'];
/** The same rules for the browser's `pattern` attribute (anchored by the browser; compiled with the v flag). */
const PATTERNS = {
  assistantType: '[a-z][a-z0-9_]{0,31}',
  department: '[a-z][a-z0-9_\\-]{0,39}',
  purpose: '[a-z0-9_]{1,64}',
  contentSid: 'HX[0-9a-fA-F]{32}',
};

/** Admin pages answer 403 to supervisors and agents (the brief: non-admins get 403 on admin routes). */
const adminOnly = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (!hasRole(c.get('operator').role, 'ADMIN'))
    return page(
      c,
      'Forbidden',
      <section>
        <h1>Forbidden</h1>
        <p id="forbidden">This page is for admins.</p>
      </section>,
      403,
    );
  await next();
});

/** A prompt operation's refusal, as the API maps it (src/api/errors.ts), shown on the page; anything else is a bug. */
const promptMessage = (error: unknown) => {
  const refused = asApiError(error);
  if (refused) return refused.message;
  throw error;
};

/**
 * An admin verb's refusal (src/services/admin.ts) in this page's words, by code: the service's messages are the
 * API's, worded for clients. Any other error is a bug and is thrown.
 */
const refusal = (c: ConsoleContext, to: string, error: unknown, words: Partial<Record<ServiceErrorCode, string>>) => {
  const message = error instanceof ServiceError ? words[error.code] : undefined;
  if (message === undefined) throw error;
  return done(c, to, 'error', message);
};

/** The key of a new user or a new key, shown on this one page and never again. */
function keyShownOnce(c: ConsoleContext, title: string, who: string, apiKey: string) {
  return page(
    c,
    title,
    <section>
      <h1>{title}</h1>
      <p>
        The API key of <strong>{who}</strong>. Copy it now: it is shown only this once (only its hash is stored).
      </p>
      <p>
        <code id="new-api-key" class="secret">
          {apiKey}
        </code>
      </p>
      <p>
        <a href="/console/admin/users">Back to users</a>
      </p>
    </section>,
  );
}

function statusOf(r: PromptVersionRow) {
  if (r.inEffect) return <span class="badge ok">in effect</span>;
  if (r.active) return <span class="badge">active (shadowed)</span>;
  return <span class="muted">inactive</span>;
}

/** ADMIN: prompt versions, users and API keys, departments, WhatsApp Content templates. */
export function adminPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  const { db } = deps;
  app.use('/admin', adminOnly);
  app.use('/admin/*', adminOnly);
  const tenantOf = (c: ConsoleContext) => c.get('operator').tenantId;
  const actor = (c: ConsoleContext) => `user:${c.get('operator').id}`;
  const form = (c: ConsoleContext) => c.get('form');

  app.get('/admin', (c) => c.redirect('/console/admin/prompts', 303));

  // Prompt versions.
  app.get('/admin/prompts', async (c) => {
    const tenantId = tenantOf(c);
    const [rows, defaultType] = await Promise.all([
      listPromptVersions(db, tenantId),
      tenantAssistantType(db, tenantId),
    ]);
    const types = [...new Set([defaultType, ...rows.map((r) => r.assistantType)])];
    return page(
      c,
      'Prompts',
      <section>
        <h1>Prompt versions</h1>
        <p class="muted">
          The AI uses the version marked “in effect”: the tenant’s active one, else the built-in default. Built-in
          versions are read-only; add a version to change the prompt.
        </p>
        {types.map((type) => {
          const versions = rows.filter((r) => r.assistantType === type);
          return (
            <article class="card" id={`prompts-${type}`} data-type={type}>
              <h2>
                {type}
                {type === defaultType ? <span class="muted"> (the tenant’s default assistant)</span> : ''}
              </h2>
              <table class="prompt-versions">
                <TableHead cols={['Version', 'Scope', 'Status', 'Created', 'Activated', '']} />
                <tbody>
                  {versions.map((r) => (
                    <tr data-version={r.version} data-scope={r.scope}>
                      <td data-label="Version">
                        <a href={`/console/admin/prompts/${type}/${encodeURIComponent(r.version)}`}>{r.version}</a>
                      </td>
                      <td data-label="Scope">{r.scope}</td>
                      <td data-label="Status">{statusOf(r)}</td>
                      <td data-label="Created">
                        {time(r.createdAt)} <span class="muted">{r.createdBy}</span>
                      </td>
                      <td data-label="Activated">{time(r.activatedAt)}</td>
                      <td>
                        {r.scope === 'tenant' && !r.active && (
                          <ActionForm
                            c={c}
                            action={`/console/admin/prompts/${type}/${encodeURIComponent(r.version)}/activate`}
                          >
                            <button type="submit" class="activate">
                              Activate
                            </button>
                          </ActionForm>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {versions.length > 1 && (
                <form method="get" action="/console/admin/prompts/diff" class="diff-form">
                  <input type="hidden" name="type" value={type} />
                  <label>
                    From{' '}
                    <select name="from">
                      {versions.map((r, i) => (
                        <option value={r.version} selected={i === 1}>
                          {r.version}
                        </option>
                      ))}
                    </select>
                  </label>{' '}
                  <label>
                    to{' '}
                    <select name="to">
                      {versions.map((r, i) => (
                        <option value={r.version} selected={i === 0}>
                          {r.version}
                        </option>
                      ))}
                    </select>
                  </label>{' '}
                  <button type="submit" class="secondary show-diff">
                    Show diff
                  </button>
                </form>
              )}
              {versions.some((r) => r.scope === 'tenant' && r.active) && (
                <ActionForm c={c} action={`/console/admin/prompts/${type}/rollback`}>
                  <button type="submit" class="secondary rollback">
                    Roll back
                  </button>
                </ActionForm>
              )}
            </article>
          );
        })}
        <h2>Add a version</h2>
        <ActionForm c={c} action="/console/admin/prompts" class="stack">
          <label>
            Assistant type
            <input name="assistantType" value={defaultType} pattern={PATTERNS.assistantType} required />
          </label>
          <label>
            Version
            <input name="version" placeholder="1.1.0" required maxlength={32} />
          </label>
          <label>
            Prompt
            <textarea name="content" rows={10} required></textarea>
          </label>
          <label class="check">
            <input type="checkbox" name="activate" value="1" /> Activate it now
          </label>
          <button type="submit" id="add-prompt-submit">
            Add version
          </button>
        </ActionForm>
      </section>,
    );
  });

  app.post('/admin/prompts', async (c) => {
    const f = form(c);
    try {
      const added = await addPrompt(deps, {
        tenantId: tenantOf(c),
        assistantType: f.assistantType?.trim() || (await tenantAssistantType(db, tenantOf(c))),
        version: f.version?.trim() ?? '',
        content: f.content ?? '',
        actor: actor(c),
        activate: f.activate === '1',
      });
      return done(
        c,
        '/console/admin/prompts',
        'ok',
        `Version ${added.version} added${added.active ? ' and activated: the next AI turn uses it' : ' (inactive)'}.`,
      );
    } catch (error) {
      return done(c, '/console/admin/prompts', 'error', promptMessage(error));
    }
  });

  app.get('/admin/prompts/diff', async (c) => {
    const type = c.req.query('type') ?? '';
    const from = c.req.query('from') ?? '';
    const to = c.req.query('to') ?? '';
    let a, b;
    try {
      [a, b] = await Promise.all([findPrompt(deps, tenantOf(c), type, from), findPrompt(deps, tenantOf(c), type, to)]);
    } catch (error) {
      return done(c, '/console/admin/prompts', 'error', promptMessage(error));
    }
    const lines = diffLines(a.content, b.content);
    const changed = lines.filter((l) => l.op !== 'same').length;
    return page(
      c,
      `Diff ${type} ${a.version} → ${b.version}`,
      <section>
        <h1>
          {type}: {a.version} → {b.version}
        </h1>
        <p id="diff-summary">
          {changed === 0 ? 'The two versions are identical.' : `${changed} line${changed === 1 ? '' : 's'} changed.`}
        </p>
        <table id="prompt-diff" class="diff">
          <tbody>
            {lines.map((l) => (
              <tr class={`diff-${l.op}`}>
                <td class="ln">{l.oldLine ?? ''}</td>
                <td class="ln">{l.newLine ?? ''}</td>
                <td class="sign">{l.op === 'add' ? '+' : l.op === 'del' ? '−' : ''}</td>
                <td class="text">{l.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          <a href="/console/admin/prompts">Back to prompt versions</a>
        </p>
      </section>,
    );
  });

  app.get('/admin/prompts/:type/:version', async (c) => {
    let row;
    try {
      row = await findPrompt(deps, tenantOf(c), c.req.param('type'), c.req.param('version'));
    } catch (error) {
      return done(c, '/console/admin/prompts', 'error', promptMessage(error));
    }
    return page(
      c,
      `Prompt ${row.assistantType} ${row.version}`,
      <section>
        <h1>
          {row.assistantType} {row.version}
        </h1>
        <p class="muted">
          {row.scope} · {row.active ? 'active' : 'inactive'} · created {time(row.createdAt)} by {row.createdBy}
        </p>
        <pre id="prompt-content" class="prompt">
          {row.content}
        </pre>
        <p>
          <a href="/console/admin/prompts">Back to prompt versions</a>
        </p>
      </section>,
    );
  });

  app.post('/admin/prompts/:type/:version/activate', async (c) => {
    try {
      const result = await activatePrompt(deps, {
        tenantId: tenantOf(c),
        assistantType: c.req.param('type'),
        version: c.req.param('version'),
        actor: actor(c),
      });
      return done(
        c,
        '/console/admin/prompts',
        'ok',
        `${c.req.param('type')} ${result.active} is active (was ${result.previous ?? 'the built-in prompt'}).`,
      );
    } catch (error) {
      return done(c, '/console/admin/prompts', 'error', promptMessage(error));
    }
  });

  app.post('/admin/prompts/:type/rollback', async (c) => {
    try {
      const result = await rollBackPrompt(deps, {
        tenantId: tenantOf(c),
        assistantType: c.req.param('type'),
        actor: actor(c),
      });
      return done(
        c,
        '/console/admin/prompts',
        'ok',
        `Rolled back from ${result.from} to ${result.to ?? 'the built-in prompt'}.`,
      );
    } catch (error) {
      return done(c, '/console/admin/prompts', 'error', promptMessage(error));
    }
  });

  // Users and API keys.
  app.get('/admin/users', async (c) => {
    const [users, departments] = await Promise.all([listUsers(deps, tenantOf(c)), listDepartments(deps, tenantOf(c))]);
    return page(
      c,
      'Users',
      <section>
        <h1>Users and API keys</h1>
        <table id="users">
          <TableHead cols={['Name', 'Role', 'Department', 'Keys', '']} />
          <tbody>
            {users.map((u) => (
              <tr data-user-id={u.id} data-name={u.name}>
                <td data-label="Name">
                  {u.name}
                  {u.disabledAt ? <span class="muted"> (disabled)</span> : ''}
                </td>
                <td data-label="Role">{u.role}</td>
                <td data-label="Department">{u.department ?? <span class="muted">—</span>}</td>
                <td data-label="Keys">
                  <ul class="keys">
                    {u.keys.map((k) => (
                      <li data-key-id={k.id} data-revoked={k.revokedAt ? '1' : '0'}>
                        <code>cw_{k.prefix}_…</code>{' '}
                        {k.revokedAt ? (
                          <span class="muted">revoked {time(k.revokedAt)}</span>
                        ) : (
                          <>
                            <span class="muted">last used {time(k.lastUsedAt)}</span>{' '}
                            <ActionForm c={c} action={`/console/admin/keys/${k.id}/revoke`}>
                              <button type="submit" class="secondary revoke-key">
                                Revoke
                              </button>
                            </ActionForm>
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  <ActionForm c={c} action={`/console/admin/users/${u.id}/keys`}>
                    <button type="submit" class="secondary issue-key">
                      Issue key
                    </button>
                  </ActionForm>
                  {u.id !== c.get('operator').id && (
                    <ActionForm c={c} action={`/console/admin/users/${u.id}/${u.disabledAt ? 'enable' : 'disable'}`}>
                      <button type="submit" class={`secondary ${u.disabledAt ? 'enable-user' : 'disable-user'}`}>
                        {u.disabledAt ? 'Enable' : 'Disable'}
                      </button>
                    </ActionForm>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Add a user</h2>
        <ActionForm c={c} action="/console/admin/users" class="stack">
          <label>
            Name
            <input name="name" required maxlength={100} />
          </label>
          <label>
            Role
            <select name="role">
              {ROLES.map((r) => (
                <option value={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Department
            <select name="department">
              <option value="">(none)</option>
              {departments.map((d) => (
                <option value={d.name}>{d.name}</option>
              ))}
            </select>
          </label>
          <label>
            E-mail
            <input name="email" type="email" maxlength={200} />
          </label>
          <button type="submit" id="add-user-submit">
            Add user
          </button>
        </ActionForm>
      </section>,
    );
  });

  app.post('/admin/users', async (c) => {
    const f = form(c);
    const parsed = z
      .object({
        name: z.string().trim().min(1).max(100),
        role: z.enum(['ADMIN', 'SUPERVISOR', 'AGENT']),
        department: z.union([z.literal(''), z.string().regex(DEPARTMENT_NAME)]).default(''),
        email: z.union([z.literal(''), z.email().max(200)]).default(''),
      })
      .safeParse(f);
    if (!parsed.success)
      return done(c, '/console/admin/users', 'error', 'Check the name, role, department and e-mail.');
    const created = await addUser(deps, {
      tenantId: tenantOf(c),
      name: parsed.data.name,
      role: parsed.data.role,
      department: parsed.data.department || null,
      email: parsed.data.email || null,
    });
    c.get('log').info({ userId: created.user.id, role: created.user.role }, 'console: user added');
    noteAudit(c, { targetType: 'users', targetId: created.user.id, details: { role: created.user.role } });
    return keyShownOnce(c, 'User added', `${created.user.name} (${created.user.role})`, created.apiKey);
  });

  app.post('/admin/users/:id/keys', async (c) => {
    const id = c.req.param('id');
    let issued;
    try {
      issued = await issueKey(deps, tenantOf(c), id);
    } catch (error) {
      return refusal(c, '/console/admin/users', error, { not_found: 'No such user.' });
    }
    const user = (await listUsers(deps, tenantOf(c))).find((u) => u.id === id);
    return keyShownOnce(c, 'Key issued', user?.name ?? 'the user', issued.apiKey);
  });

  // F: disabling ends the user's keys and sessions at once (checked on every request); not one's own account.
  for (const action of ['disable', 'enable'] as const)
    app.post(`/admin/users/:id/${action}`, async (c) => {
      let user;
      try {
        user = await setUserAccess(deps, {
          tenantId: tenantOf(c),
          userId: c.req.param('id') ?? '',
          disabled: action === 'disable',
          by: c.get('operator').id,
        });
      } catch (error) {
        return refusal(c, '/console/admin/users', error, {
          conflict: 'You cannot disable or enable yourself.',
          not_found: 'No such user.',
        });
      }
      return done(
        c,
        '/console/admin/users',
        'ok',
        action === 'disable'
          ? `${user.name} disabled: their keys and console sessions stopped working.`
          : `${user.name} enabled again (their sessions stay ended; keys that were not revoked work again).`,
      );
    });

  app.post('/admin/keys/:id/revoke', async (c) => {
    try {
      await revokeKey(deps, tenantOf(c), c.req.param('id'));
    } catch (error) {
      return refusal(c, '/console/admin/users', error, { not_found: 'No such key, or revoked already.' });
    }
    return done(c, '/console/admin/users', 'ok', 'Key revoked: it no longer signs in or calls the API.');
  });

  // Departments.
  app.get('/admin/departments', async (c) => {
    const rows = await listDepartments(deps, tenantOf(c));
    return page(
      c,
      'Departments',
      <section>
        <h1>Departments</h1>
        <table id="departments">
          <TableHead cols={['Name', 'Users', 'Waiting handoffs']} />
          <tbody>
            {rows.map((d) => (
              <tr data-department={d.name}>
                <td data-label="Name">
                  {d.name}
                  {d.isDefault ? <span class="badge ok default-department">default</span> : ''}
                  {d.declared ? '' : <span class="muted"> (in use, not declared)</span>}
                </td>
                <td data-label="Users">{d.users}</td>
                <td data-label="Waiting">{d.waiting}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Default department</h2>
        <p class="muted">A handoff goes here when the AI does not name a department.</p>
        <ActionForm c={c} action="/console/admin/departments/default" class="stack">
          <label>
            Department
            <select name="name">
              {rows.map((d) => (
                <option value={d.name} selected={d.isDefault}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" id="set-default-department">
            Set default
          </button>
        </ActionForm>
        <h2>Add a department</h2>
        <ActionForm c={c} action="/console/admin/departments" class="stack">
          <label>
            Name
            <input name="name" required pattern={PATTERNS.department} placeholder="billing" />
          </label>
          <button type="submit" id="add-department-submit">
            Add department
          </button>
        </ActionForm>
      </section>,
    );
  });

  app.post('/admin/departments', async (c) => {
    const name = (form(c).name ?? '').trim();
    if (!DEPARTMENT_NAME.test(name))
      return done(c, '/console/admin/departments', 'error', 'A department name is a-z, 0-9, _ and -.');
    try {
      await addDepartment(deps, tenantOf(c), name);
    } catch (error) {
      return refusal(c, '/console/admin/departments', error, { conflict: `Department ${name} exists already.` });
    }
    return done(c, '/console/admin/departments', 'ok', `Department ${name} added.`);
  });

  app.post('/admin/departments/default', async (c) => {
    const name = (form(c).name ?? '').trim();
    if (!DEPARTMENT_NAME.test(name))
      return done(c, '/console/admin/departments', 'error', 'A department name is a-z, 0-9, _ and -.');
    await setDefaultDepartment(deps, tenantOf(c), name);
    return done(c, '/console/admin/departments', 'ok', `Handoffs without a department now go to ${name}.`);
  });

  // WhatsApp Content templates (causeway template set|list).
  app.get('/admin/templates', async (c) => {
    const rows = await listTemplates(deps, tenantOf(c));
    return page(
      c,
      'Message templates',
      <section>
        <h1>WhatsApp message templates</h1>
        <p class="muted">
          Outside the 24-hour window WhatsApp accepts only approved Content templates: one per purpose (idle_nudge,
          promise_reminder, agent_reply, outage_notice, a campaign’s template key…).
        </p>
        {rows.length === 0 ? (
          <p class="empty">None configured.</p>
        ) : (
          <table id="templates">
            <TableHead cols={['Purpose', 'Content SID', 'Variables', 'Updated']} />
            <tbody>
              {rows.map((t) => (
                <tr data-purpose={t.purpose}>
                  <td data-label="Purpose">{t.purpose}</td>
                  <td data-label="Content SID">
                    <code>{t.contentSid}</code>
                  </td>
                  <td data-label="Variables">
                    <code>{JSON.stringify(t.variables)}</code>
                  </td>
                  <td data-label="Updated">{time(t.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Set a template</h2>
        <ActionForm c={c} action="/console/admin/templates" class="stack">
          <label>
            Purpose
            <input name="purpose" required pattern={PATTERNS.purpose} placeholder="agent_reply" />
          </label>
          <label>
            Content SID
            <input name="contentSid" required pattern={PATTERNS.contentSid} placeholder="HX…" />
          </label>
          <label>
            Variables (JSON: position → variable)
            <input name="variables" value="{}" />
          </label>
          <button type="submit" id="set-template-submit">
            Save template
          </button>
        </ActionForm>
      </section>,
    );
  });

  app.post('/admin/templates', async (c) => {
    const f = form(c);
    const purpose = (f.purpose ?? '').trim();
    const contentSid = (f.contentSid ?? '').trim();
    try {
      await setTemplate(deps, { tenantId: tenantOf(c), purpose, contentSid, variables: f.variables?.trim() || '{}' });
    } catch (error) {
      // By the refused field; for the variables, the parser's own reason (the service's message, capitalized).
      const field =
        error instanceof ServiceError ? (error.details as { field?: string } | undefined)?.field : undefined;
      const invalid =
        field === 'purpose'
          ? 'Purpose: a-z, 0-9 and _.'
          : field === 'contentSid'
            ? 'A Content SID is HX followed by 32 hex digits.'
            : field === 'variables'
              ? `V${(error as ServiceError).message.slice(1)}`
              : undefined;
      return refusal(c, '/console/admin/templates', error, invalid ? { invalid } : {});
    }
    return done(c, '/console/admin/templates', 'ok', `Template for ${purpose} saved.`);
  });
}
