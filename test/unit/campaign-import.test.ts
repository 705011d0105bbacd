import { describe, expect, it } from 'vitest';
import { detectFormat, formatErrors, parseTargets, type RowError } from '../../src/domain/campaign-import';

const csv = (...lines: string[]) => lines.join('\n');
const errorsOf = (content: string, format: 'csv' | 'json' = 'csv', options = {}) =>
  formatErrors(parseTargets(content, format, options).errors);

describe('parseTargets (CSV)', () => {
  it('maps known columns, keeps the rest as template variables and fills defaults', () => {
    const result = parseTargets(
      csv(
        'Phone,Name,Time Zone,Região,Priority,Debt_Amount,Due_Date,CPF,contract id,Plano',
        'whatsapp:+55 (11) 99999-0000, Maria ,America/Sao_Paulo, Teresópolis ,5,"R$ 1.234,56",2026-06-10,123.456.789-00,C-1,Fibra 500',
        '+5521988887777,,,,,,,,,',
      ),
      'csv',
    );
    expect(result.errors).toEqual([]);
    expect(result.format).toBe('csv');
    expect(result.rows).toEqual([
      {
        line: 2,
        phone: '+5511999990000',
        name: 'Maria',
        timeZone: 'America/Sao_Paulo',
        region: 'teresopolis',
        priority: 5,
        debtAmountCents: 123456,
        dueDate: '2026-06-10',
        document: '123.456.789-00',
        variables: { contract_id: 'C-1', Plano: 'Fibra 500' },
      },
      {
        line: 3,
        phone: '+5521988887777',
        name: null,
        timeZone: null,
        region: null,
        priority: 0,
        debtAmountCents: null,
        dueDate: null,
        document: null,
        variables: { contract_id: '', Plano: '' },
      },
    ]);
  });

  it('accepts header aliases in any case', () => {
    const result = parseTargets(
      csv(
        'TELEFONE,nome,tz,cidade,prioridade,valor,vencimento,documento',
        '+5511999990000,Ana,Asia/Kolkata,Rio,-3,10,01/02/2026,x',
      ),
      'csv',
    );
    expect(result.rows[0]).toMatchObject({
      name: 'Ana',
      timeZone: 'Asia/Kolkata',
      region: 'rio',
      priority: -3,
      debtAmountCents: 1000,
      dueDate: '2026-02-01',
      document: 'x',
    });
  });

  it('handles quotes, embedded commas and quotes, a semicolon delimiter, a BOM and CRLF', () => {
    const result = parseTargets(
      '\uFEFFtelefone;nome;valor\r\n+5511999990000;"Silva; João";"1.234,56"\r\n+5511999990001;"Ana ""Aninha"", Souza";7,5\r\n',
      'csv',
    );
    expect(result.errors).toEqual([]);
    expect(result.rows.map((r) => [r.name, r.debtAmountCents])).toEqual([
      ['Silva; João', 123456],
      ['Ana "Aninha", Souza', 750],
    ]);
    const commas = parseTargets(csv('phone,name', '+5511999990000,"Silva, João"'), 'csv');
    expect(commas.rows[0]!.name).toBe('Silva, João');
  });

  it('reports the physical line where a record starts, across multi-line fields and empty lines', () => {
    const content = csv(
      'phone,name,notes', // 1
      '+5511999990000,Ana,"first line', // 2
      'second line', // 3
      'third line"', // 4
      '', // 5
      '+5511999990001,Bia,ok', // 6
      ',,', // 7: blank cells only, skipped like an empty line
      'bad-phone,Caio,"multi', // 8
      'line"', // 9
      '+5511999990001,Duda,dup', // 10
    );
    const result = parseTargets(content, 'csv');
    expect(result.rows.map((r) => r.line)).toEqual([2, 6]);
    expect(result.rows[0]!.variables.notes).toBe('first line\nsecond line\nthird line');
    expect(result.errors).toEqual([
      { line: 8, field: 'phone', message: 'not an E.164 number ("bad-phone")' },
      { line: 10, field: 'phone', message: 'duplicate of line 6' },
    ]);
    // The same with CRLF line endings.
    expect(parseTargets(content.replace(/\n/g, '\r\n'), 'csv').errors.map((e) => e.line)).toEqual([8, 10]);
  });

  it('reports duplicates after normalization', () => {
    expect(
      errorsOf(csv('phone', '+55 11 99999-0000', 'whatsapp:+5511999990000', '(11) 99999.0000'), 'csv', {
        defaultCountryCode: '55',
      }),
    ).toBe('line 3: phone: duplicate of line 2\nline 4: phone: duplicate of line 2');
  });

  it('prefixes the default country code only to numbers without "+"', () => {
    const result = parseTargets(csv('phone', '(21) 98888-7777', '+1 555 010 0000'), 'csv', {
      defaultCountryCode: '+55',
    });
    expect(result.rows.map((r) => r.phone)).toEqual(['+5521988887777', '+15550100000']);
    expect(errorsOf(csv('phone', '21988887777'))).toBe('line 2: phone: not an E.164 number ("21988887777")');
    expect(() => parseTargets('phone', 'csv', { defaultCountryCode: 'BR' })).toThrow(/country code/);
  });

  it('requires a phone column: one error at line 1', () => {
    expect(parseTargets(csv('name,amount', 'Ana,1', 'Bia,x'), 'csv').errors).toEqual([
      { line: 1, field: null, message: expect.stringMatching(/^no phone column/) as string },
    ]);
    expect(errorsOf('')).toMatch(/^line 1: the file is empty/);
  });

  it('rejects ambiguous or unusable headers', () => {
    expect(errorsOf(csv('phone,telefone', '+5511999990000,+5511999990001'))).toBe(
      'line 1: columns "phone" and "telefone" are both phone',
    );
    expect(errorsOf(csv('phone,,x', '+5511999990000,,'))).toBe('line 1: column 2 has no name');
    expect(errorsOf(csv('phone,Contract ID,Contract-ID', '+5511999990000,1,2'))).toBe(
      'line 1: columns "Contract ID" and "Contract-ID" are both variable "Contract_ID"',
    );
    expect(errorsOf(csv('phone,!!!', '+5511999990000,1'))).toBe(
      'line 1: column "!!!" is not usable as a template variable (use letters, digits and _)',
    );
  });

  it('reports a row with the wrong number of columns on its line without stopping', () => {
    const result = parseTargets(
      csv('phone,name', '+5511999990000,Silva, João', '+5511999990001,Ana', '+5511999990002'),
      'csv',
    );
    expect(result.errors).toEqual([
      { line: 2, field: null, message: 'expected 2 columns, found 3 (quote values that contain the delimiter)' },
      { line: 4, field: null, message: 'expected 2 columns, found 1 (quote values that contain the delimiter)' },
    ]);
    expect(result.rows.map((r) => r.line)).toEqual([3]);
  });

  it('reports an unclosed quote as one error instead of crashing', () => {
    const result = parseTargets(csv('phone,name', '+5511999990000,"Ana', '+5511999990001,Bia'), 'csv');
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.message).toMatch(/^unreadable CSV: .*quote/i);
  });

  it.each([
    ['1234.56', 123456],
    ['1234,56', 123456],
    ['1.234,56', 123456],
    ['1,234.56', 123456],
    ['R$ 1.234,56', 123456],
    ['R$1.234.567,8', 123456780],
    ['US$ 12', 1200],
    ['0,05', 5],
    ['1.234', 123400],
    ['1,234', 123400],
    ['1.234.567', 123456700],
    ['0', 0],
    ['999999999.99', 99999999999],
  ])('reads the amount %j as %i cents', (amount, cents) => {
    const result = parseTargets(csv('phone;amount', `+5511999990000;${amount}`), 'csv');
    expect(result.errors).toEqual([]);
    expect(result.rows[0]!.debtAmountCents).toBe(cents);
  });

  it.each([
    ['abc', 'not an amount ("abc")'],
    ['-10', 'must not be negative ("-10")'],
    ['R$ -5,00', 'must not be negative ("R$ -5,00")'],
    ['1.2.3', 'not an amount ("1.2.3")'],
    ['12,345,6', 'not an amount ("12,345,6")'],
    ['1.234,567', 'not an amount ("1.234,567")'],
    ['12.3456', 'not an amount ("12.3456")'],
    ['1e5', 'not an amount ("1e5")'],
    ['1000000000', 'too large ("1000000000")'],
  ])('rejects the amount %j', (amount, message) => {
    expect(errorsOf(csv('phone;amount', `+5511999990000;${amount}`))).toBe(`line 2: debt_amount: ${message}`);
  });

  it('validates due dates as real calendar dates', () => {
    expect(
      parseTargets(csv('phone,due', '+5511999990000,29/02/2028', '+5511999990001,5/1/2026'), 'csv').rows.map(
        (r) => r.dueDate,
      ),
    ).toEqual(['2028-02-29', '2026-01-05']);
    expect(
      errorsOf(
        csv(
          'phone,due',
          '+5511999990000,2026-02-30',
          '+5511999990001,31/04/2026',
          '+5511999990002,2026-13-01',
          '+5511999990003,tomorrow',
          '+5511999990004,2026/01/01',
        ),
      ),
    ).toBe(
      [
        'line 2: due_date: not a real calendar date ("2026-02-30")',
        'line 3: due_date: not a real calendar date ("31/04/2026")',
        'line 4: due_date: not a real calendar date ("2026-13-01")',
        'line 5: due_date: not a date, use YYYY-MM-DD or DD/MM/YYYY ("tomorrow")',
        'line 6: due_date: not a date, use YYYY-MM-DD or DD/MM/YYYY ("2026/01/01")',
      ].join('\n'),
    );
  });

  it('validates time zones, priorities and variable lengths, reporting every bad field of a row', () => {
    expect(
      errorsOf(
        csv(
          'phone,tz,priority,note',
          `12345,Mars/Base,1001,${'x'.repeat(1001)}`,
          '+5511999990001,UTC,1.5,ok',
          `+5511999990002,,-1000,${'y'.repeat(1000)}`,
        ),
      ),
    ).toBe(
      [
        'line 2: phone: not an E.164 number ("12345")',
        'line 2: time_zone: unknown time zone ("Mars/Base")',
        'line 2: priority: must be an integer between -1000 and 1000 ("1001")',
        'line 2: note: longer than 1000 characters',
        'line 3: priority: must be an integer between -1000 and 1000 ("1.5")',
      ].join('\n'),
    );
  });

  it('enforces maxRows', () => {
    const content = csv('phone', '+5511999990000', '+5511999990001', '+5511999990002');
    expect(parseTargets(content, 'csv', { maxRows: 3 }).rows).toHaveLength(3);
    expect(parseTargets(content, 'csv', { maxRows: 2 })).toMatchObject({
      rows: [],
      errors: [{ line: 4, message: 'too many rows: 3 (the limit is 2)' }],
    });
  });
});

describe('parseTargets (JSON)', () => {
  it('accepts snake_case and camelCase fields and a variables object (values coerced to text)', () => {
    const result = parseTargets(
      JSON.stringify([
        {
          phoneNumber: '+55 11 99999-0000',
          name: 'Ana',
          timeZone: 'Europe/London',
          region: 'Niterói',
          priority: 7,
          debtAmount: 1234.5,
          dueDate: '10/06/2026',
          cpf: '1',
          variables: { plan: 'Fibra', months: 3, vip: true },
        },
        { phone: '+5511999990001', debt_amount: '1.234,56', due_date: '2026-06-10' },
      ]),
      'json',
    );
    expect(result.errors).toEqual([]);
    expect(result.format).toBe('json');
    expect(result.rows).toEqual([
      {
        line: 1,
        phone: '+5511999990000',
        name: 'Ana',
        timeZone: 'Europe/London',
        region: 'niteroi',
        priority: 7,
        debtAmountCents: 123450,
        dueDate: '2026-06-10',
        document: '1',
        variables: { plan: 'Fibra', months: '3', vip: 'true' },
      },
      {
        line: 2,
        phone: '+5511999990001',
        name: null,
        timeZone: null,
        region: null,
        priority: 0,
        debtAmountCents: 123456,
        dueDate: '2026-06-10',
        document: null,
        variables: {},
      },
    ]);
  });

  it('reports bad items as "item N"', () => {
    const content = JSON.stringify([
      { phone: '+5511999990000' },
      { phone: '+5511999990000', debtAmount: -1 },
      'not an object',
      { phone: 'x', foo: 1, variables: { 'bad name': 'v', ok: { nested: true } } },
      { name: 'no phone', priority: 2.5, debtAmount: 0.001 },
      { phone: '+5511999990009', variables: [1] },
      { phone: '+5511999990010', telefone: '+5511999990011' },
    ]);
    const errors = parseTargets(content, 'json').errors;
    expect(errors.every((e: RowError) => e.unit === 'item')).toBe(true);
    expect(formatErrors(errors)).toBe(
      [
        'item 2: phone: duplicate of item 1',
        'item 2: debt_amount: must not be negative ("-1")',
        'item 3: expected an object',
        'item 4: foo: unknown field (put template variables under "variables")',
        'item 4: variables.bad name: not a valid variable name (use letters, digits and _)',
        'item 4: phone: not an E.164 number ("x")',
        'item 4: variables.ok: must be a string',
        'item 5: phone: required',
        'item 5: priority: must be an integer between -1000 and 1000 ("2.5")',
        'item 5: debt_amount: not an amount in cents precision (0.001)',
        'item 6: variables: must be an object of name → text',
        'item 7: telefone: duplicates the phone field',
      ].join('\n'),
    );
  });

  it('reports invalid JSON at the line of the syntax error', () => {
    const errors = parseTargets('[\n  {"phone": "+5511999990000"},\n  {phone: "+5511999990001"}\n]', 'json').errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      line: 3,
      field: null,
      message: expect.stringMatching(/^invalid JSON: /) as string,
    });
    expect(errors[0]!.unit).toBeUndefined();
    expect(parseTargets('[\n{"phone": "+5511999990000"},\n', 'json').errors[0]!.line).toBe(2);
  });

  it('requires an array of objects', () => {
    expect(errorsOf('{"phone": "+5511999990000"}', 'json')).toBe('line 1: expected a JSON array of target objects');
    expect(parseTargets('\uFEFF[]', 'json')).toEqual({ rows: [], errors: [], format: 'json' });
    expect(
      errorsOf(JSON.stringify([{ phone: '+5511999990000' }, { phone: '+5511999990001' }]), 'json', { maxRows: 1 }),
    ).toBe('item 2: too many items: 2 (the limit is 1)');
  });
});

describe('detectFormat', () => {
  it('goes by extension, then by content', () => {
    expect(detectFormat('targets.JSON', 'phone\n+5511999990000')).toBe('json');
    expect(detectFormat('targets.csv', '[]')).toBe('csv');
    expect(detectFormat('targets', '\uFEFF  [{"phone": "+5511999990000"}]')).toBe('json');
    expect(detectFormat('-', 'phone\n+5511999990000')).toBe('csv');
  });
});

describe('formatErrors', () => {
  it('lists up to the limit, then how many more', () => {
    const errors: RowError[] = Array.from({ length: 5 }, (_, i) => ({
      line: i + 2,
      field: i % 2 ? 'phone' : null,
      message: `problem ${i}`,
    }));
    expect(formatErrors(errors, 3)).toBe(
      'line 2: problem 0\nline 3: phone: problem 1\nline 4: problem 2\n… and 2 more',
    );
    expect(formatErrors(errors)).toBe(
      errors.map((e) => `line ${e.line}: ${e.field ? `${e.field}: ` : ''}${e.message}`).join('\n'),
    );
    expect(formatErrors([])).toBe('');
  });
});
