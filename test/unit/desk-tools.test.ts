import { describe, expect, it } from 'vitest';
import {
  cannedVariables,
  decodeCursor,
  encodeCursor,
  maskPhone,
  renderCanned,
  unknownCannedVariables,
} from '../../src/domain/desk-tools';
import { reportRange, toCsv, validTimeZone } from '../../src/domain/report-range';

describe('canned responses (issue 20 E)', () => {
  const vars = cannedVariables({ contactName: '  Maria  da Silva ', agentName: 'Ana', department: 'billing' });
  it('fills known variables, drops empty ones, keeps unknown ones visible', () => {
    expect(renderCanned('Olá {{first_name}} ({{ name }}), {{agent_name}} de {{department}}.', vars)).toBe(
      'Olá Maria (Maria  da Silva), Ana de billing.',
    );
    expect(
      renderCanned('Oi {{first_name}}!', cannedVariables({ contactName: null, agentName: 'A', department: null })),
    ).toBe('Oi !');
    expect(renderCanned('CPF {{cpf}}', vars)).toBe('CPF {{cpf}}');
  });
  it('names the unknown variables of a body', () => {
    expect(unknownCannedVariables('{{first_name}} {{cpf}} {{ cpf }} {{Name}}')).toEqual(['cpf', 'Name']);
    expect(unknownCannedVariables('sem variáveis')).toEqual([]);
  });
});

describe('search cursor and export masking (issue 20 E)', () => {
  it('a cursor round-trips and garbage is refused', () => {
    const row = { startedAt: new Date('2026-11-02T10:00:00.123Z'), id: '0b8e0a9c-1f7d-4b8e-9a53-3e2b7f0c1d22' };
    expect(decodeCursor(encodeCursor(row))).toEqual(row);
    expect(decodeCursor('garbage')).toBeNull();
    expect(
      decodeCursor(Buffer.from('not-a-date|0b8e0a9c-1f7d-4b8e-9a53-3e2b7f0c1d22').toString('base64url')),
    ).toBeNull();
  });
  it('phones keep the country code and the last two digits', () => {
    expect(maskPhone('+5511987654321')).toBe('+55*********21');
    expect(maskPhone('+15551234567')).toBe('+15*******67');
    expect(maskPhone('erased:abc')).toBe('erased');
    expect(maskPhone('whatever')).toBe('***');
  });
});

describe('report periods and CSV (issue 20 F)', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  it('since as a duration or a date, until defaulting to now', () => {
    expect(reportRange({ since: '7d' }, now)).toEqual({ since: new Date('2026-11-29T12:00:00Z'), until: now });
    expect(reportRange({ since: '2026-12-01', until: '2026-12-03' }, now)).toEqual({
      since: new Date('2026-12-01T00:00:00Z'),
      until: new Date('2026-12-03T00:00:00Z'),
    });
    expect(() => reportRange({ since: 'yesterday' }, now)).toThrow(/duration back from now/);
    expect(() => reportRange({ since: '2026-12-05', until: '2026-12-01' }, now)).toThrow(/before until/);
    expect(() => reportRange({ since: '400d' }, now)).toThrow(/366 days/);
  });
  it('time zones are checked', () => {
    expect(validTimeZone('America/Sao_Paulo')).toBe(true);
    expect(validTimeZone('Mars/Base')).toBe(false);
  });
  it('CSV quotes what needs quoting, empty for null', () => {
    expect(toCsv([{ a: 'x,y', b: null, c: 1.5 }], ['a', 'b', 'c'])).toBe('a,b,c\n"x,y",,1.5\n');
  });
});
