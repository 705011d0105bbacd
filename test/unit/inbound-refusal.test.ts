import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createInboundActivities } from '../../src/activities/inbound';
import type { ActivityDeps } from '../../src/activities/deps';
import { FailureType, type InboundInput } from '../../src/contract';

/*
 * Issue 19 A: the inbound use case (src/services/inbound.ts) refuses with a ServiceError; its activities turn that
 * into the NotFound failure the workflow does not retry, and let every other error through as it was.
 */
function activities(select: () => Promise<unknown[]>) {
  const db = { select: () => ({ from: () => ({ where: select }) }) };
  return createInboundActivities({ db, log: console } as unknown as ActivityDeps);
}

const input = (from: string): InboundInput => ({
  tenantId: randomUUID(),
  tenantSlug: 'acme',
  messageSid: `SM${randomUUID().replaceAll('-', '')}`,
  channel: 'whatsapp',
  from,
  to: 'whatsapp:+15550001111',
  body: 'hi',
  media: [],
  profileName: null,
  originalRepliedMessageSid: null,
  receivedAt: new Date().toISOString(),
  trace: { traceId: '0'.repeat(32), spanId: '0'.repeat(16) },
});

async function failure(run: Promise<unknown>) {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('inbound activities over the inbound service', () => {
  it('a sender that is no phone address: NotFound, not retried', async () => {
    for (const step of ['receiveInbound', 'recordInbound'] as const) {
      const f = await failure(activities(() => Promise.resolve([]))[step](input('whatsapp:not-a-phone')));
      expect([f.type, f.nonRetryable, f.message]).toEqual([
        FailureType.NotFound,
        true,
        'sender is not a phone address',
      ]);
    }
  });

  it('an unknown tenant: NotFound, not retried', async () => {
    const f = await failure(activities(() => Promise.resolve([]))['receiveInbound'](input('whatsapp:+5511999990000')));
    expect([f.type, f.nonRetryable, f.message]).toEqual([FailureType.NotFound, true, 'tenant not found']);
  });

  it('any other error passes as it is (database errors are typed by the interceptor, the rest retried)', async () => {
    const boom = new Error('connection reset');
    const error = await activities(() => Promise.reject(boom))
      .receiveInbound(input('whatsapp:+5511999990000'))
      .catch((e: unknown) => e);
    expect(error).toBe(boom);
  });
});
