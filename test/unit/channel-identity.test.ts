import { describe, expect, it } from 'vitest';
import { parseAddress, parseBsuid, parsePhoneAddress } from '../../src/domain/address';
import { checkTemplateVariables, describeTemplateProblems } from '../../src/domain/template-variables';

describe('addresses with WhatsApp BSUIDs (issue 22 A)', () => {
  it('accepts a BSUID on WhatsApp only, and keeps it apart from phones', () => {
    expect(parseAddress('whatsapp:BR.1502576394655843')).toEqual({
      channel: 'whatsapp',
      phone: 'BR.1502576394655843',
      bsuid: true,
    });
    expect(parseAddress('whatsapp:US.ENT.11815799212886844830')).toMatchObject({ bsuid: true });
    expect(parseAddress('BR.1502576394655843')).toBeNull(); // SMS has no BSUIDs
    expect(parsePhoneAddress('whatsapp:BR.1502576394655843')).toBeNull();
    expect(parsePhoneAddress('whatsapp:+5511999990000')).toEqual({ channel: 'whatsapp', phone: '+5511999990000' });
  });
  it.each([
    'whatsapp:br.123',
    'whatsapp:BRA.123',
    'whatsapp:BR.',
    'whatsapp:BR.12-3',
    `whatsapp:BR.${'1'.repeat(129)}`,
  ])('rejects %j', (input) => {
    expect(parseAddress(input)).toBeNull();
  });
  it('reads ExternalUserIdentifier with or without the channel prefix', () => {
    expect(parseBsuid('BR.1502576394655843')).toBe('BR.1502576394655843');
    expect(parseBsuid('whatsapp:BR.1502576394655843')).toBe('BR.1502576394655843');
    expect(parseBsuid('+5511999990000')).toBeNull();
    expect(parseBsuid(undefined)).toBeNull();
  });
});

describe('template variables before the call (issue 22 C)', () => {
  it('maps declared positions to the supplied values', () => {
    expect(checkTemplateVariables({ 1: 'name', 2: 'text' }, { name: 'Ana', text: 'olá', extra: 'x' })).toEqual({
      ok: true,
      values: { 1: 'Ana', 2: 'olá' },
    });
    expect(checkTemplateVariables({}, { text: 'x' })).toEqual({ ok: true, values: {} });
  });
  it('refuses missing, null, empty and blank values, and gaps in the numbering', () => {
    const check = checkTemplateVariables(
      { 1: 'name', 2: 'due_date', 3: 'amount', 5: 'text' },
      { name: '  ', amount: '', text: 'x' },
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(describeTemplateProblems(check.problems)).toBe(
      '{{5}} not sequential, {{1}} name empty, {{2}} due_date missing, {{3}} amount empty',
    );
    expect(checkTemplateVariables({ 1: 'a' }, { a: null })).toMatchObject({ ok: false });
  });
});
