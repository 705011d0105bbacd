#!/usr/bin/env node
// `npm test`'s last step: the application logs of the whole run (test/support/harness.ts writes them to
// test-results/logs at debug level) must hold no phone number and no message body. Test phones are E.164 numbers
// (+1555…, whatsapp:+…); the fake AI answers "Echo: <the customer's text>", so an echoed body is one too.
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'test-results/logs');
const PATTERNS = [
  { name: 'phone number', re: /(?<![\w.])\+\d{10,15}\b/ },
  { name: 'whatsapp address', re: /whatsapp:\+?\d/ },
  { name: 'message body (the fake AI echo)', re: /Echo: / },
];

/** @type {{ where: string, name: string, msg: string }[]} */
const found = [];
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson')) : [];
let lines = 0;
for (const file of files) {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  text.split('\n').forEach((line, i) => {
    if (!line) return;
    lines += 1;
    for (const { name, re } of PATTERNS) {
      if (re.test(line)) found.push({ where: `${file}:${i + 1}`, name, msg: safeMsg(line) });
    }
  });
}

/** The log line's `msg` only (fixed texts), never its fields. @param {string} line @returns {string} */
function safeMsg(line) {
  return /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '';
}

if (found.length > 0) {
  console.error(`check-test-logs: ${found.length} log line(s) in ${dir} hold personal data:`);
  for (const f of found.slice(0, 20)) console.error(`  ${f.where}: ${f.name} (msg: ${JSON.stringify(f.msg)})`);
  process.exit(1);
}
console.log(`check-test-logs: ${lines} log lines in ${files.length} file(s), no phone number or message body`);
