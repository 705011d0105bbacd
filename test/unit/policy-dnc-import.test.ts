import { describe, expect, it } from 'vitest';
import { normalizePhone, parseDncCsv, scopeOfList } from '../../src/domain/policy/dnc-import';

describe('do-not-contact list files', () => {
  it('reads Brazilian spellings as E.164', () => {
    expect(normalizePhone('(11) 98765-4321')).toBe('+5511987654321');
    expect(normalizePhone('1133334444')).toBe('+551133334444');
    expect(normalizePhone('5511987654321')).toBe('+5511987654321');
    expect(normalizePhone('+55 11 98765-4321')).toBe('+5511987654321');
    expect(normalizePhone('+14155550100')).toBe('+14155550100');
    expect(normalizePhone('987')).toBeNull();
  });
  it('finds the phone and date columns, and a file without a header', () => {
    const parsed = parseDncCsv('nome,telefone,data\nAna,(11) 98765-4321,15/03/2026\nBia,21987654321,2026-04-01\n', {
      registeredAtColumn: 'data',
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows).toEqual([
      { phone: '+5511987654321', registeredAt: new Date('2026-03-15T03:00:00Z') },
      { phone: '+5521987654321', registeredAt: new Date('2026-04-01T03:00:00Z') },
    ]);
    expect(parseDncCsv('11987654321\r\n21987654321\r\n').rows.map((r) => r.phone)).toEqual([
      '+5511987654321',
      '+5521987654321',
    ]);
  });
  it('reports bad rows by line without echoing them, and a missing date column', () => {
    const parsed = parseDncCsv('telefone,data\n123,2026-01-01\n11987654321,ontem\n', { registeredAtColumn: 'data' });
    expect(parsed.errors).toEqual([
      { line: 2, message: 'not a phone number' },
      { line: 3, message: 'registration date is not a date (YYYY-MM-DD or DD/MM/YYYY)' },
    ]);
    expect(parseDncCsv('telefone\n11987654321\n', { registeredAtColumn: 'cadastro' }).errors[0]!.message).toMatch(
      /no column "cadastro"/,
    );
  });
  it('names the scope by list', () => {
    expect(scopeOfList('procon-sp')).toBe('procon-sp');
    expect(scopeOfList('nao-me-perturbe')).toBe('nao-me-perturbe');
    expect(scopeOfList('vip-blocklist')).toBe('tenant');
  });
});
