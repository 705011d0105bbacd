import {
  activatePromptVersion,
  addPromptVersion,
  findPromptVersion,
  PromptError,
  promptTenantBySlug,
  rollbackPrompt,
  type AddPromptInput,
} from '../db/knowledge/prompts';
import type { ServiceContext } from './context';
import { ServiceError } from './errors';

/*
 * The system prompts' versions (add, activate, roll back, read), shared by the admin API, the console and
 * `causeway prompt`. The data layer refuses inside its transaction (so a refused add keeps nothing it wrote) with a
 * PromptError; this is the one place that becomes a ServiceError, which the API and the CLI map as any other.
 */

type Ctx = Pick<ServiceContext, 'db'>;

async function refused<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    if (error instanceof PromptError)
      throw new ServiceError(error.code === 'bad_request' ? 'invalid' : error.code, error.message, { cause: error });
    throw error;
  }
}

/** One version with its text: the tenant's own of that name first, else the built-in one; not_found otherwise. */
export const findPrompt = (ctx: Ctx, tenantId: string, assistantType: string, version: string) =>
  refused(findPromptVersion(ctx.db, tenantId, assistantType, version));

/** Adds a version to the tenant's own template; invalid (type, version, text) or conflict (exists already). */
export const addPrompt = (ctx: Ctx, input: AddPromptInput) => refused(addPromptVersion(ctx.db, input));

/** Makes one of the tenant's versions the active one, atomically; not_found for a version it does not own. */
export const activatePrompt = (
  ctx: Ctx,
  input: { tenantId: string; assistantType: string; version: string; actor: string },
) => refused(activatePromptVersion(ctx.db, input));

/** Back to the version activated before (down to the built-in prompt); conflict when nothing is left to undo. */
export const rollBackPrompt = (ctx: Ctx, input: { tenantId: string; assistantType: string; actor: string }) =>
  refused(rollbackPrompt(ctx.db, input));

/** The tenant a `causeway prompt` command names, with its default assistant type; not_found otherwise. */
export const promptTenant = (ctx: Ctx, slug: string) => refused(promptTenantBySlug(ctx.db, slug));
