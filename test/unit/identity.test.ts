import { describe, expect, it } from 'vitest';
import { checkIdentity, expectedIdentity, identityPrompt, mentionsDebt } from '../../src/domain/identity';

describe('identity check (issue 23 E)', () => {
  const cpf = expectedIdentity('cpf-last-digits', { document: '123.456.789-09', variables: {} });
  it('cpf-last-digits: the last 4 digits or the whole CPF confirm; other 4-digit groups do not', () => {
    expect(cpf).toBe('12345678909');
    expect(checkIdentity('cpf-last-digits', cpf, '8909')).toBe('confirmed');
    expect(checkIdentity('cpf-last-digits', cpf, 'os últimos são 8909, obrigado')).toBe('confirmed');
    expect(checkIdentity('cpf-last-digits', cpf, 'meu cpf é 123.456.789-09')).toBe('confirmed');
    expect(checkIdentity('cpf-last-digits', cpf, '1234')).toBe('mismatch');
    expect(checkIdentity('cpf-last-digits', cpf, '987.654.321-00')).toBe('mismatch');
    expect(checkIdentity('cpf-last-digits', cpf, 'quanto eu devo?')).toBe('no_answer');
    expect(checkIdentity('cpf-last-digits', null, '8909')).toBe('no_data');
    expect(expectedIdentity('cpf-last-digits', { document: null, variables: {} })).toBeNull();
  });

  it('birth-date: any common way of writing the date in the target data', () => {
    const born = expectedIdentity('birth-date', { document: null, variables: { data_nascimento: '07/03/1985' } });
    expect(born).toBe('1985-03-07');
    expect(checkIdentity('birth-date', born, 'nasci em 07/03/1985')).toBe('confirmed');
    expect(checkIdentity('birth-date', born, '1985-03-07')).toBe('confirmed');
    expect(checkIdentity('birth-date', born, '7-3-1985')).toBe('confirmed');
    expect(checkIdentity('birth-date', born, '08/03/1985')).toBe('mismatch');
    expect(checkIdentity('birth-date', born, 'oi')).toBe('no_answer');
    expect(expectedIdentity('birth-date', { document: '1', variables: { birth_date: '31/02/1990' } })).toBeNull();
  });

  it('mentionsDebt catches the amount and the due date however they are written', () => {
    const debt = { amountCents: 150_000, due: '2026-12-20' };
    for (const text of [
      'R$ 1.500,00',
      'R$1500,00',
      '1500.00',
      'US$ 1,500.00',
      'vence 20/12/2026',
      'até 20/12',
      '2026-12-20',
    ])
      expect(mentionsDebt(text, debt), text).toBe(true);
    for (const text of ['Olá! Como posso ajudar?', 'envie os 4 últimos dígitos do seu CPF', 'R$ 150,00'])
      expect(mentionsDebt(text, debt), text).toBe(false);
  });

  it('asks in the tenant language', () => {
    expect(identityPrompt('cpf-last-digits', 'pt-BR')).toContain('CPF');
    expect(identityPrompt('birth-date', 'en')).toContain('date of birth');
  });
});
