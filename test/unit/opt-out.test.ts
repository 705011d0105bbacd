import { describe, expect, it } from 'vitest';
import { classifyKeyword, HELP_KEYWORDS, START_KEYWORDS, STOP_KEYWORDS } from '../../src/domain/opt-out';

describe('classifyKeyword', () => {
  it.each([
    'STOP',
    'stop',
    ' stop! ',
    'Stop.',
    'STOP!!',
    'SAIR',
    'Sair',
    'parar',
    'Párar',
    'PARE',
    'cancelar',
    'Descadastrar',
    'baja',
    'Alto',
    'unsubscribe',
    'opt-out',
    'OptOut',
    'stopall',
    'End',
    'quit',
    'revoke',
    'cancel',
  ])('%j is a stop', (body) => {
    expect(classifyKeyword(body)).toBe('stop');
  });

  it.each(['START', 'unstop', 'Subscribe!', 'voltar', 'Reativar.'])('%j is a start', (body) => {
    expect(classifyKeyword(body)).toBe('start');
  });

  it.each(['HELP', 'info', 'Ajuda', 'ayuda!', '  help  '])('%j is a help', (body) => {
    expect(classifyKeyword(body)).toBe('help');
  });

  it.each([
    'stop sending me bills',
    'please stop',
    'quero sair da lista',
    'STOP?',
    'yes',
    'sim',
    'help me',
    'stopp',
    'st op',
    '',
    '   ',
    'ok',
    'opt out',
  ])('%j is not a keyword (only a whole-message keyword counts)', (body) => {
    expect(classifyKeyword(body)).toBeNull();
  });

  it('collapses inner whitespace and strips accents before matching', () => {
    expect(classifyKeyword('\tSTOP\n')).toBe('stop');
    expect(classifyKeyword('AJÚDA')).toBe('help');
  });

  it('exports disjoint lists of normalized keywords, without "yes"', () => {
    const all = [...STOP_KEYWORDS, ...START_KEYWORDS, ...HELP_KEYWORDS];
    expect(new Set(all).size).toBe(all.length);
    expect(all).not.toContain('yes');
    for (const keyword of all) expect(keyword).toBe(keyword.toLowerCase().normalize('NFD').replace(/\p{M}/gu, ''));
  });
});
