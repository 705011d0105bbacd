import { Hono, type Context } from 'hono';
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
import {
  ASSISTANT_TYPE,
  listPromptVersions,
  MAX_PROMPT_CHARS,
  PROMPT_VERSION,
  tenantAssistantType,
} from '../../db/knowledge/prompts';
import { activatePrompt, addPrompt, findPrompt, rollBackPrompt } from '../../services/prompts';
import { diffLines } from '../../domain/line-diff';
import { noteAudit } from '../audit';
import { authenticate, requireRole } from '../auth';
import { readJson } from '../body';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

export const promptBody = z.object({
  assistantType: z.string().regex(ASSISTANT_TYPE).optional(),
  version: z.string().regex(PROMPT_VERSION),
  content: z.string().min(1).max(MAX_PROMPT_CHARS),
  activate: z.boolean().optional(),
});
export const userBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(['ADMIN', 'SUPERVISOR', 'AGENT']),
  department: z.string().regex(DEPARTMENT_NAME).optional(),
  email: z.email().max(200).optional(),
});
export const departmentBody = z.object({ name: z.string().trim().regex(DEPARTMENT_NAME) });
export const contentTemplateBody = z.object({
  contentSid: z.string().regex(CONTENT_SID),
  variables: z.record(z.string(), z.string()).default({}),
});

/**
 * ADMIN's own powers (issue 13 A): prompt versions, operators and their keys, departments, WhatsApp Content
 * templates, each scoped to the admin's tenant. Every route answers 403 to supervisors and agents.
 */
export function adminRoutes(deps: AppDeps) {
  const { db } = deps;
  const tenantOf = (c: Context<AppEnv>) => c.get('operator').tenantId;
  const actor = (c: Context<AppEnv>) => `user:${c.get('operator').id}`;
  const typeParam = (c: Context<AppEnv>) => {
    const type = c.req.param('type') ?? '';
    if (!ASSISTANT_TYPE.test(type)) throw new ApiError('not_found', 'no such assistant type');
    return type;
  };

  // F: a disabled user's keys and sessions stop working at once; an admin cannot lock themselves out this way.
  const userDisabled = async (c: Context<AppEnv>, disabled: boolean) => {
    const user = await setUserAccess(deps, {
      tenantId: tenantOf(c),
      userId: c.req.param('id'),
      disabled,
      by: c.get('operator').id,
    });
    return c.json({ user: { id: user.id, name: user.name, role: user.role, disabled }, changed: user.changed });
  };

  return new Hono<AppEnv>()
    .use('*', authenticate(deps), requireRole('ADMIN'))
    .get('/prompts', async (c) => c.json({ versions: await listPromptVersions(db, tenantOf(c)) }))
    .post('/prompts', async (c) => {
      const body = await readJson(c, promptBody);
      const assistantType = body.assistantType ?? (await tenantAssistantType(db, tenantOf(c)));
      const added = await addPrompt(deps, {
        tenantId: tenantOf(c),
        assistantType,
        version: body.version,
        content: body.content,
        actor: actor(c),
        activate: body.activate,
      });
      return c.json({ version: { assistantType, ...added } }, 201);
    })
    .get('/prompts/:type/diff', async (c) => {
      const type = typeParam(c);
      const from = c.req.query('from') ?? '';
      const to = c.req.query('to') ?? '';
      const [a, b] = await Promise.all([
        findPrompt(deps, tenantOf(c), type, from),
        findPrompt(deps, tenantOf(c), type, to),
      ]);
      return c.json({
        from: { version: a.version, scope: a.scope },
        to: { version: b.version, scope: b.scope },
        lines: diffLines(a.content, b.content),
      });
    })
    .post('/prompts/:type/rollback', async (c) =>
      c.json(await rollBackPrompt(deps, { tenantId: tenantOf(c), assistantType: typeParam(c), actor: actor(c) })),
    )
    .get('/prompts/:type/:version', async (c) =>
      c.json({
        version: await findPrompt(deps, tenantOf(c), typeParam(c), c.req.param('version')),
      }),
    )
    .post('/prompts/:type/:version/activate', async (c) =>
      c.json(
        await activatePrompt(deps, {
          tenantId: tenantOf(c),
          assistantType: typeParam(c),
          version: c.req.param('version'),
          actor: actor(c),
        }),
      ),
    )
    .get('/users', async (c) => c.json({ users: await listUsers(deps, tenantOf(c)) }))
    .post('/users', async (c) => {
      const body = await readJson(c, userBody);
      const created = await addUser(deps, {
        tenantId: tenantOf(c),
        name: body.name,
        role: body.role,
        department: body.department ?? null,
        email: body.email ?? null,
      });
      const { id, name, role, department, email } = created.user;
      noteAudit(c, { targetType: 'users', targetId: id, details: { role } });
      // The key is in this answer only; the database keeps its hash.
      return c.json({ user: { id, name, role, department, email }, apiKey: created.apiKey }, 201);
    })
    .post('/users/:id/keys', async (c) => {
      const issued = await issueKey(deps, tenantOf(c), c.req.param('id'));
      return c.json({ key: { id: issued.id, prefix: issued.prefix }, apiKey: issued.apiKey }, 201);
    })
    .post('/users/:id/disable', async (c) => userDisabled(c, true))
    .post('/users/:id/enable', async (c) => userDisabled(c, false))
    .delete('/keys/:id', async (c) => {
      await revokeKey(deps, tenantOf(c), c.req.param('id'));
      return c.body(null, 204);
    })
    .get('/departments', async (c) => c.json({ departments: await listDepartments(deps, tenantOf(c)) }))
    .post('/departments', async (c) => {
      const { name } = await readJson(c, departmentBody);
      await addDepartment(deps, tenantOf(c), name);
      return c.json({ department: { name } }, 201);
    })
    .put('/departments/default', async (c) => {
      const { name } = await readJson(c, departmentBody);
      await setDefaultDepartment(deps, tenantOf(c), name);
      return c.json({ defaultDepartment: name });
    })
    .get('/templates', async (c) => c.json({ templates: await listTemplates(deps, tenantOf(c)) }))
    .put('/templates/:purpose', async (c) => {
      const purpose = c.req.param('purpose');
      // The purpose is refused before the body is read, as before (setTemplate checks it again).
      if (!/^[a-z0-9_]{1,64}$/.test(purpose))
        throw new ApiError('bad_request', 'purpose: 1–64 characters of a-z, 0-9 and _');
      const body = await readJson(c, contentTemplateBody);
      const row = await setTemplate(deps, {
        tenantId: tenantOf(c),
        purpose,
        contentSid: body.contentSid,
        variables: JSON.stringify(body.variables),
      });
      return c.json({ template: { purpose: row.purpose, contentSid: row.contentSid, variables: row.variables } });
    });
}
