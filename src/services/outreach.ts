import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../contract';
import { outreachWorkflowId, type OutreachInput, type OutreachResult } from '../contract/outreach';
import type { Channel } from '../contract/types';
import { findContentTemplate, listContentTemplates } from '../db/outbound/content-templates';
import { tenantHashKey } from '../db/ingress/inbound';
import { tenantFirstNumber, upsertOutreachContact } from '../db/contacts/outreach';
import type { Operator } from '../db/operators/users';
import { contactHash } from '../domain/contact-hash';
import { newRootTrace } from '../domain/trace';
import { currentTrace } from '../tracing/context';
import type { OperatorContext } from './context';
import { ServiceError } from './errors';
import { windowClosedMessage } from './workflow-updates';
import { workflowType, type Workflows } from '../contract/workflow-types';

export const outreachBody = z
  .object({
    phone: z
      .string()
      .trim()
      .regex(/^\+[1-9]\d{6,14}$/, 'phone must be an E.164 number, e.g. +5511987654321'),
    channel: z.enum(['whatsapp', 'sms']),
    name: z.string().trim().max(200).optional(),
    /** WhatsApp: the purpose of one of the tenant's Content templates. */
    purpose: z
      .string()
      .trim()
      .regex(/^[a-z0-9_]{1,60}$/)
      .optional(),
    variables: z.record(z.string().regex(/^[a-zA-Z0-9_]{1,40}$/), z.string().max(500)).default({}),
    body: z.string().trim().max(1600).default(''),
    /** Idempotency: the same key never sends twice (the console puts one in each form). */
    key: z
      .string()
      .regex(/^[\w.:-]{1,100}$/)
      .optional(),
  })
  .refine((b) => b.channel !== 'sms' || b.body.length > 0, { message: 'an SMS needs a body', path: ['body'] })
  .refine((b) => b.channel !== 'whatsapp' || !!b.purpose, {
    message: 'WhatsApp outreach needs an approved template: give its purpose',
    path: ['purpose'],
  });
export type OutreachRequest = z.infer<typeof outreachBody>;

/** The WhatsApp templates an agent may start a conversation with: the tenant's configured Content templates. */
export async function outreachTemplates(ctx: Pick<OperatorContext, 'db'>, tenantId: string) {
  return (await listContentTemplates(ctx.db, tenantId)).map((t) => ({
    purpose: t.purpose,
    contentSid: t.contentSid,
    variables: [...new Set(Object.values(t.variables))],
  }));
}

/** Variables a template may name that the service fills itself (the contact's name, the agent's). */
const automatic = (req: OutreachRequest, operator: Operator): Record<string, string> => {
  const name = req.name ?? '';
  return { name, first_name: name.split(/\s+/)[0] ?? '', agent_name: operator.name };
};

/**
 * Issue 20 E: validates the request against the tenant's setup (a number on the channel; on WhatsApp the template
 * and every variable it names), stores the contact, then runs `outreach:<tenant>:<key>` and waits for the send's
 * outcome, so the agent is told at once whether it went out (and why not).
 */
export async function startOutreach(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  operator: Operator,
  req: OutreachRequest,
): Promise<OutreachResult & { contactId: string }> {
  const { db } = ctx;
  const temporal = ctx.temporal.client;
  const channel: Channel = req.channel;
  if (!(await tenantFirstNumber(db, operator.tenantId, channel)))
    throw new ServiceError('invalid', `the tenant has no ${channel} number to send from`);
  const variables = { ...automatic(req, operator), ...req.variables };
  if (channel === 'whatsapp') {
    const template = await findContentTemplate(db, operator.tenantId, req.purpose!);
    if (!template)
      throw new ServiceError(
        'invalid',
        `no WhatsApp template for purpose "${req.purpose}" (causeway template set --purpose ${req.purpose} …)`,
      );
    const missing = [...new Set(Object.values(template.variables))].filter((v) => !variables[v]?.trim());
    if (missing.length) throw new ServiceError('invalid', `fill the template's variables: ${missing.join(', ')}`);
  }
  const hashKey = await tenantHashKey(db, operator.tenantId);
  if (!hashKey) throw new ServiceError('not_found', 'no such tenant');
  const contact = await upsertOutreachContact(db, {
    tenantId: operator.tenantId,
    phone: req.phone,
    phoneHash: contactHash(hashKey, req.phone),
    name: req.name || null,
  });
  if (contact.optedOutAt) throw new ServiceError('conflict', 'the contact opted out (STOP): not contacted');
  const key = req.key ?? randomUUID();
  const input: OutreachInput = {
    tenantId: operator.tenantId,
    contactId: contact.id,
    channel,
    agent: { id: operator.id, name: operator.name },
    purpose: channel === 'whatsapp' ? req.purpose! : null,
    variables,
    body: req.body,
    key,
    trace: currentTrace() ?? newRootTrace(),
  };
  const workflowId = outreachWorkflowId(operator.tenantSlug, key);
  try {
    let result: OutreachResult;
    try {
      result = await temporal.workflow.execute<Workflows['outreachWorkflow']>(workflowType.outreachWorkflow, {
        workflowId,
        taskQueue: ctx.temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `Outreach by an agent (${channel})`,
      });
    } catch (error) {
      // The same key again (a double click, a retried request): the first run's outcome, nothing sent twice.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      result = (await temporal.workflow.getHandle(workflowId).result()) as OutreachResult;
    }
    return { ...result, contactId: contact.id };
  } catch (error) {
    throw outreachFailure(error, req.purpose ?? 'outreach');
  }
}

function outreachFailure(error: unknown, purpose: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const cause = error instanceof WorkflowFailedError ? error.cause : null;
  const failure = cause instanceof ActivityFailure ? cause.cause : cause;
  if (failure instanceof ApplicationFailure) {
    if (failure.type === FailureType.WindowClosed)
      return new ServiceError('window_closed', windowClosedMessage(purpose, 'Nothing was sent.'), { cause: error });
    if (failure.type === FailureType.InvalidState || failure.type === FailureType.TwilioPermanent)
      return new ServiceError('conflict', failure.message, { cause: error });
    if (failure.type === FailureType.NotFound) return new ServiceError('invalid', failure.message, { cause: error });
  }
  return new ServiceError('unavailable', 'could not start the outreach, retry later', { cause: error });
}
