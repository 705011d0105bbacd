/**
 * A parser for the subset of YAML that docker-compose.yml uses (no YAML package in the dependencies): block
 * mappings and sequences by indentation, plain / single- / double-quoted scalars, flow sequences of scalars,
 * `|` literal blocks, anchors (`&a`), aliases (`*a`) and merge keys (`<<: *a`). Scalars stay strings. Anything
 * outside the subset throws, so the test can never silently read a different file than Compose would.
 */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line { indent: number; text: string; no: number }

function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      return raw.slice(0, i).trimEnd();
    }
  }
  return raw.trimEnd();
}

function scalar(text: string, no: number): string | null {
  const t = text.trim();
  if (t === '' || t === '~' || t === 'null') return null;
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) throw new Error(`line ${no}: unterminated double-quoted scalar`);
    return JSON.parse(t) as string;
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new Error(`line ${no}: unterminated single-quoted scalar`);
    return t.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[{>!%@`]/.test(t)) throw new Error(`line ${no}: unsupported YAML: ${t}`);
  return t;
}

function flowSequence(text: string, no: number): string[] {
  const inner = text.trim().slice(1, -1);
  const items: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (quote) {
      current += ch;
      if (ch === '\\' && quote === '"') current += inner[++i] ?? '';
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      items.push(current);
      current = '';
    } else if (ch === '[' || ch === '{') {
      throw new Error(`line ${no}: nested flow collections are not supported`);
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') items.push(current);
  return items.map((item) => scalar(item, no) ?? '');
}

const KEY = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'#\-?:][^:]*?|-[^\s:][^:]*?):(?:\s+|$)(.*)$/;

export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = [];
  const raw = source.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const text = stripComment(raw[i]!);
    if (text.trim() === '') continue;
    if (text.includes('\t')) throw new Error(`line ${i + 1}: tabs are not supported`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  }
  // Literal blocks keep their raw lines (comments inside them are content): parse them from `raw`.
  const anchors = new Map<string, YamlValue>();
  let pos = 0;

  function literal(parentIndent: number, headerNo: number): string {
    const body: string[] = [];
    let blockIndent = -1;
    let i = headerNo; // raw index of the line after the header
    for (; i < raw.length; i++) {
      const r = raw[i]!;
      if (r.trim() === '') { body.push(''); continue; }
      const ind = r.length - r.trimStart().length;
      if (ind <= parentIndent) break;
      if (blockIndent < 0) blockIndent = ind;
      body.push(r.slice(blockIndent));
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    // Skip the parsed lines that belong to the block.
    while (pos < lines.length && lines[pos]!.no <= i) pos++;
    return body.length > 0 ? `${body.join('\n')}\n` : '';
  }

  function value(text: string, line: Line, parentIndent: number): YamlValue {
    let t = text.trim();
    let anchor: string | null = null;
    const a = /^&([\w-]+)\s*(.*)$/.exec(t);
    if (a) {
      anchor = a[1]!;
      t = a[2]!;
    }
    let result: YamlValue;
    if (t === '') {
      const next = lines[pos];
      result = next && next.indent > parentIndent ? block(next.indent) : next && next.indent === parentIndent && next.text.startsWith('- ') ? block(next.indent) : null;
    } else if (t.startsWith('*')) {
      const name = t.slice(1);
      if (!anchors.has(name)) throw new Error(`line ${line.no}: unknown alias *${name}`);
      result = anchors.get(name)!;
    } else if (t === '|' || t === '|-') {
      result = literal(parentIndent, line.no);
      if (t === '|-') result = result.replace(/\n$/, '');
    } else if (t.startsWith('[')) {
      if (!t.endsWith(']')) throw new Error(`line ${line.no}: multi-line flow sequences are not supported`);
      result = flowSequence(t, line.no);
    } else {
      result = scalar(t, line.no);
    }
    if (anchor) anchors.set(anchor, result);
    return result;
  }

  function block(indent: number): YamlValue {
    const first = lines[pos]!;
    if (first.text === '-' || first.text.startsWith('- ')) {
      const items: YamlValue[] = [];
      while (pos < lines.length && lines[pos]!.indent === indent && (lines[pos]!.text === '-' || lines[pos]!.text.startsWith('- '))) {
        const line = lines[pos++]!;
        const rest = line.text.slice(1).trim();
        if (KEY.test(rest) && !rest.startsWith('"') && !rest.startsWith("'")) throw new Error(`line ${line.no}: mappings inside sequences are not supported`);
        items.push(value(rest, line, indent));
      }
      return items;
    }
    const map: Record<string, YamlValue> = {};
    const merged: Record<string, YamlValue>[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const line = lines[pos++]!;
      const m = KEY.exec(line.text);
      if (!m) throw new Error(`line ${line.no}: expected "key: value", got: ${line.text}`);
      const key = scalar(m[1]!, line.no)!;
      const v = value(m[2]!, line, indent);
      if (key === '<<') {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`line ${line.no}: << needs a mapping`);
        merged.push(v);
        continue;
      }
      if (key in map) throw new Error(`line ${line.no}: duplicate key ${key}`);
      map[key] = v;
    }
    if (pos < lines.length && lines[pos]!.indent > indent) throw new Error(`line ${lines[pos]!.no}: unexpected indentation`);
    // Merge keys: explicit keys win, earlier merges win over later ones (YAML merge key semantics).
    return Object.assign({}, ...[...merged].reverse(), map) as Record<string, YamlValue>;
  }

  if (lines.length === 0) return null;
  const root = block(lines[0]!.indent);
  if (pos < lines.length) throw new Error(`line ${lines[pos]!.no}: unexpected content`);
  return root;
}
