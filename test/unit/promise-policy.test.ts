import { describe, expect, it } from 'vitest';
import { dueInstant, promiseRefusal } from '../../src/domain/promise-policy';

const now = new Date('2026-12-06T12:00:00Z');
const policy = { debtCents: 15_000, maxDaysAhead: 60, now };

describe('promise policy (issue 18 E)', () => {
  it('accepts a promise within the debt and the horizon', () => {
    expect(promiseRefusal({ amountCents: 15_000, dueDate: '2026-12-20' }, policy)).toBeNull();
    expect(promiseRefusal({ amountCents: 1, dueDate: '2027-02-04' }, policy)).toBeNull();
    expect(promiseRefusal({ amountCents: 500, dueDate: '2026-12-07T15:00:00-03:00' }, policy)).toBeNull();
    expect(promiseRefusal({ amountCents: 10 ** 9, dueDate: '2026-12-07' }, { ...policy, debtCents: null })).toBeNull();
  });

  it('refuses R$0,01 due 9999-12-31, zero, above the debt, past, unreal dates', () => {
    expect(promiseRefusal({ amountCents: 1, dueDate: '9999-12-31' }, policy)).toMatch(/more than 60 days/);
    expect(promiseRefusal({ amountCents: 0, dueDate: '2026-12-20' }, policy)).toMatch(/greater than zero/);
    expect(promiseRefusal({ amountCents: -5, dueDate: '2026-12-20' }, policy)).toMatch(/greater than zero/);
    expect(promiseRefusal({ amountCents: 15_001, dueDate: '2026-12-20' }, policy)).toMatch(/more than the open debt/);
    expect(promiseRefusal({ amountCents: 100, dueDate: '2026-11-01' }, policy)).toMatch(/in the past/);
    expect(promiseRefusal({ amountCents: 100, dueDate: '2027-02-30' }, policy)).toMatch(/not a real date/);
    expect(promiseRefusal({ amountCents: 100, dueDate: 'amanhã' }, policy)).toMatch(/not a real date/);
    expect(promiseRefusal({ amountCents: 100, dueDate: '2027-02-06' }, policy)).toMatch(/more than 60 days/);
  });

  it('reads real dates only', () => {
    expect(dueInstant('2028-02-29')?.toISOString()).toBe('2028-02-29T23:59:59.000Z');
    expect(dueInstant('2027-02-29')).toBeNull();
    expect(dueInstant('2026-13-01')).toBeNull();
  });
});
