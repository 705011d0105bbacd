import {
  addDepartment as insertDepartment,
  issueApiKey,
  listDepartments as departmentRows,
  listUsersWithKeys,
  revokeApiKey,
  setDefaultDepartment as storeDefaultDepartment,
} from '../db/operators/admin';
import { listContentTemplates, setContentTemplate } from '../db/outbound/content-templates';
import {
  createTenant,
  showTenant,
  TenantChangeError,
  updateTenant as storeTenantChange,
  type NewTenant,
  type TenantChange,
} from '../db/tenants/tenants';
import { createUser, rotateApiKeys, setUserDisabled } from '../db/operators/users';
import { z } from 'zod';
import { parseContentPositions } from '../domain/whatsapp-window';
import type { ServiceContext } from './context';
import { ServiceError } from './errors';

/*
 * The admin's verbs (issue 19 A): operators and their keys, departments, WhatsApp Content templates, tenants. The
 * admin API, the console's admin pages and `causeway user|tenant` call these; each parses its own input and words
 * its own answer, and records its own audit row (the API's `noteAudit`, the CLI's `recordCliAudit`), as before.
 * Refusals are ServiceErrors whose messages are the admin API's; the console shows its own wording per code (and
 * `details.field` for a template), so its pages read as before.
 */

type Ctx = Pick<ServiceContext, 'db'>;

const PURPOSE = /^[a-z0-9_]{1,64}$/;
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

/** A malformed id names nothing: not_found, the same answer as an id of another tenant. */
const known = (id: string | undefined, what: string) => {
  if (!z.uuid().safeParse(id).success) throw new ServiceError('not_found', `no such ${what}`);
  return id!;
};

export const listUsers = (ctx: Ctx, tenantId: string) => listUsersWithKeys(ctx.db, tenantId);

/** A new operator and their first API key (returned once; the database keeps its hash). */
export const addUser = (ctx: Ctx, input: Parameters<typeof createUser>[1]) => createUser(ctx.db, input);

/** A new key for one of the tenant's users (their other keys stay valid); not_found otherwise. */
export async function issueKey(ctx: Ctx, tenantId: string, userId: string | undefined) {
  const issued = await issueApiKey(ctx.db, tenantId, known(userId, 'user'));
  if (!issued) throw new ServiceError('not_found', 'no such user');
  return issued;
}

/**
 * F: disables (or enables) one of the tenant's users; a disabled user's keys and sessions stop working at once.
 * `by`: the operator asking, who cannot lock themselves out (conflict); the CLI has none.
 */
export async function setUserAccess(
  ctx: Ctx,
  input: { tenantId: string; userId: string | undefined; disabled: boolean; by?: string },
) {
  const id = known(input.userId, 'user');
  if (id === input.by) throw new ServiceError('conflict', 'you cannot disable or enable yourself');
  const user = await setUserDisabled(ctx.db, input.tenantId, id, input.disabled);
  if (!user) throw new ServiceError('not_found', 'no such user');
  return user;
}

/** Revokes one unrevoked key of the tenant's users; not_found otherwise. */
export async function revokeKey(ctx: Ctx, tenantId: string, keyId: string | undefined) {
  if (!(await revokeApiKey(ctx.db, tenantId, known(keyId, 'key'))))
    throw new ServiceError('not_found', 'no such key, or revoked already');
}

/** Revokes every key of a user (any tenant: the CLI is the deployment's operator) and, unless `revokeOnly`, issues one. */
export async function rotateKeys(ctx: Ctx, userId: string, revokeOnly: boolean) {
  const result = await rotateApiKeys(ctx.db, userId, !revokeOnly);
  if (!result) throw new ServiceError('not_found', `no user ${userId}`);
  return result;
}

export const listDepartments = (ctx: Ctx, tenantId: string) => departmentRows(ctx.db, tenantId);

/** Declares a department (the name is parsed by the caller, DEPARTMENT_NAME); conflict when it exists. */
export async function addDepartment(ctx: Ctx, tenantId: string, name: string) {
  if (!(await insertDepartment(ctx.db, tenantId, name)))
    throw new ServiceError('conflict', `department ${name} exists already`);
}

/** Where handoffs go when the AI names no department. */
export const setDefaultDepartment = (ctx: Ctx, tenantId: string, name: string) =>
  storeDefaultDepartment(ctx.db, tenantId, name);

export const listTemplates = (ctx: Ctx, tenantId: string) => listContentTemplates(ctx.db, tenantId);

/**
 * The approved Content template for one purpose; `variables` is the JSON text of positions → variable names.
 * invalid with `details.field` (purpose, contentSid, variables) when one is not what Twilio and the sender accept.
 */
export async function setTemplate(
  ctx: Ctx,
  input: { tenantId: string; purpose: string; contentSid: string; variables: string },
) {
  const invalid = (field: string, message: string) => new ServiceError('invalid', message, { details: { field } });
  if (!PURPOSE.test(input.purpose)) throw invalid('purpose', 'purpose: 1–64 characters of a-z, 0-9 and _');
  if (!CONTENT_SID.test(input.contentSid)) throw invalid('contentSid', 'contentSid: HX followed by 32 hex digits');
  let variables: Record<string, string>;
  try {
    variables = parseContentPositions(input.variables);
  } catch (error) {
    throw invalid('variables', `variables: ${(error as Error).message}`);
  }
  return setContentTemplate(ctx.db, {
    tenantId: input.tenantId,
    purpose: input.purpose,
    contentSid: input.contentSid,
    variables,
  });
}

/** A tenant with its Twilio account and numbers, in one transaction; conflict when any of them is registered. */
export async function addTenant(ctx: Ctx, input: NewTenant) {
  try {
    return await createTenant(ctx.db, input);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    if (code === '23505')
      throw new ServiceError('conflict', 'that slug, account SID or number is already registered', { cause: error });
    throw error;
  }
}

/** A tenant's settings, accounts and numbers (never the auth token); not_found otherwise. */
export async function tenantDetails(ctx: Ctx, slug: string) {
  const details = await showTenant(ctx.db, slug);
  if (!details) throw new ServiceError('not_found', `no tenant ${slug}`);
  return details;
}

/** Applies a tenant change (names, numbers, rotated token, hybrid mode, limits…); invalid when the data refuses it. */
export async function updateTenant(ctx: Ctx, slug: string, change: TenantChange) {
  try {
    return await storeTenantChange(ctx.db, slug, change);
  } catch (error) {
    if (error instanceof TenantChangeError) throw new ServiceError('invalid', error.message, { cause: error });
    throw error;
  }
}
