import type { Client } from '@temporalio/client';
import { erasureWorkflowId, searchAttributes, workflowType, type ErasureInput, type Workflows } from '../contract';
import type { DbOrTx } from '../db/core/client';
import { findTenantWithHashKey } from '../db/tenants/lookup';
import { parseAddress } from '../domain/address';
import { findContactHashByIdentity } from '../db/contacts/identity';
import { contactHash } from '../domain/contact-hash';

export class ErasureRequestError extends Error {
  override readonly name = 'ErasureRequestError';
}

export interface ErasureRequest {
  /** The tenant by id (API: the operator's) or slug (CLI). */
  tenant: { id: string } | { slug: string };
  /** E.164 (`+5511…`) or a Twilio address (`whatsapp:+5511…`): one contact per tenant and number, all channels. */
  phone: string;
  reason: string;
  requestedBy: string;
}

/**
 * The one way to start an erasure: the phone becomes the contact's keyed hash here, so neither the workflow's
 * input nor its id ever holds it. A request while one runs for the same contact joins it (USE_EXISTING); after
 * one completed, a new run starts and finds nothing more to erase (harmless). Errors never echo the phone.
 */
export async function requestErasure(db: DbOrTx, client: Client, taskQueue: string, request: ErasureRequest) {
  const address = parseAddress(request.phone);
  if (!address)
    throw new ErasureRequestError(
      'the phone must be E.164 (+5511999990000) or whatsapp:+5511999990000 (or a WhatsApp BSUID, whatsapp:BR.…)',
    );
  const reason = request.reason.trim();
  if (!reason) throw new ErasureRequestError('a reason is required (it is kept in the erasure audit)');
  if (reason.length > 500) throw new ErasureRequestError('the reason is limited to 500 characters');
  const tenant = await findTenantWithHashKey(db, request.tenant);
  if (!tenant) throw new ErasureRequestError('no such tenant');
  // By phone or by BSUID: the contact's stored key, so erasing by either identity erases the one contact.
  const hash =
    (await findContactHashByIdentity(db, tenant.id, address.phone)) ?? contactHash(tenant.hashKey, address.phone);
  const input: ErasureInput = {
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
    contactHash: hash,
    requestedBy: request.requestedBy,
    reason,
  };
  const workflowId = erasureWorkflowId(tenant.slug, hash);
  const handle = await client.workflow.start<Workflows['erasureWorkflow']>(workflowType.erasureWorkflow, {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: searchAttributes.TENANT, value: tenant.slug }],
    staticSummary: `Erase contact ${hash.slice(0, 8)} of ${tenant.slug} on request`,
  });
  return {
    workflowId,
    runId: handle.firstExecutionRunId,
    handle,
    contactHash: hash,
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
  };
}
