import { describe, expect, it } from 'vitest';
import { counterDeltas, nextTargetState, type TargetSnapshot } from '../../src/domain/campaign-target';

const now = new Date('2026-11-22T12:00:00Z');
const sending = (over: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
  state: 'sending',
  attemptCount: 1,
  lastAttemptAt: new Date(now.getTime() - 10_000),
  contactedAt: null,
  succeededAt: null,
  repliedAt: null,
  outcome: null,
  ...over,
});
const policy = { maxAttempts: 3, attemptSpacingMs: 60_000, retryOnNoReply: false };

describe('per-target flow', () => {
  it('accepted → contacted; delivered → completed; late and duplicate callbacks change nothing', () => {
    const accepted = nextTargetState(sending(), policy, { kind: 'accepted', status: 'queued' }, now)!;
    expect(accepted).toEqual({ lastStatus: 'queued', contactedAt: now });
    const t = { ...sending(), ...accepted };
    const delivered = nextTargetState(t, policy, { kind: 'status', status: 'delivered' }, now)!;
    expect(delivered).toMatchObject({ state: 'completed', outcome: 'delivered', succeededAt: now });
    const done: TargetSnapshot = { ...t, ...delivered };
    expect(nextTargetState(done, policy, { kind: 'status', status: 'sent' }, now)).toBeNull();
    expect(nextTargetState(done, policy, { kind: 'status', status: 'undelivered' }, now)).toBeNull();
    expect(nextTargetState(done, policy, { kind: 'status', status: 'read' }, now)).toEqual({ lastStatus: 'read' });
    expect(counterDeltas(sending(), done)).toEqual({ contacted: 1, successful: 1 });
  });

  it('undelivered is retried after the spacing until max attempts, then fails', () => {
    const retry = nextTargetState(sending(), policy, { kind: 'status', status: 'undelivered' }, now)!;
    expect(retry).toMatchObject({
      state: 'scheduled',
      outcome: 'retry_after_undelivered',
      nextAttemptAt: new Date(now.getTime() + 50_000),
    });
    const last = nextTargetState(sending({ attemptCount: 3 }), policy, { kind: 'status', status: 'failed' }, now)!;
    expect(last).toMatchObject({ state: 'failed', outcome: 'failed' });
    expect(counterDeltas(sending(), { ...sending(), ...last })).toEqual({ failed: 1 });
  });

  it('permanent errors end the target with a reason; 21610 means opted out', () => {
    expect(nextTargetState(sending(), policy, { kind: 'permanent', reason: 'invalid_number' }, now)).toMatchObject({
      state: 'failed',
      outcome: 'invalid_number',
    });
    expect(nextTargetState(sending(), policy, { kind: 'permanent', reason: 'outside_window' }, now)).toMatchObject({
      state: 'failed',
      outcome: 'template_required',
    });
    expect(nextTargetState(sending(), policy, { kind: 'permanent', reason: 'opted_out' }, now)).toMatchObject({
      state: 'opted_out',
    });
  });

  it('with retry-on-no-reply a delivered message is followed up unless the contact replied', () => {
    const p = { ...policy, retryOnNoReply: true };
    const waiting = nextTargetState(sending(), p, { kind: 'status', status: 'delivered' }, now)!;
    expect(waiting).toMatchObject({ state: 'scheduled', outcome: 'awaiting_reply' });
    const replied = nextTargetState({ ...sending(), ...waiting }, p, { kind: 'reply' }, now)!;
    expect(replied).toMatchObject({ state: 'completed', outcome: 'replied', repliedAt: now });
    expect(
      nextTargetState(sending({ attemptCount: 3 }), p, { kind: 'status', status: 'delivered' }, now),
    ).toMatchObject({ state: 'completed', outcome: 'no_reply' });
  });
});

describe('offline promise recognition (scripted responder)', () => {
  it('reads an amount, a date and a method from a commitment to pay', async () => {
    const { scriptedPromise } = await import('../../src/integrations/scripted-responder');
    const today = new Date('2026-11-22T10:00:00Z');
    expect(scriptedPromise('vou pagar R$ 150,50 dia 10/12 no pix', today)).toEqual({
      type: 'promise',
      amountCents: 15050,
      dueDate: '2026-12-10',
      method: 'pix',
    });
    expect(scriptedPromise('I promise to pay 80 on 2027-01-05 by card', today)).toEqual({
      type: 'promise',
      amountCents: 8000,
      dueDate: '2027-01-05',
      method: 'card',
    });
    expect(scriptedPromise('pago 20 em 05/01', today)).toMatchObject({ dueDate: '2027-01-05', method: 'other' });
    expect(scriptedPromise('quero pagar', today)).toBeNull();
    expect(scriptedPromise('meu pedido 1234 chegou 10/12', today)).toBeNull();
  });
});
