/**
 * OpenAI's structured outputs accept a subset of JSON Schema under `strict: true` ("Supported schemas": types,
 * properties/required/additionalProperties, items, enum/const, anyOf, $defs/$ref, description; string pattern and
 * format; number minimum/maximum/exclusive*, multipleOf; array minItems/maxItems). Anything else (minLength,
 * maxLength, $schema, title, default…) is rejected or ignored, unknowable until a real call — so the schema we send
 * keeps only the subset, and the limits it drops are enforced by our own zod validation of the output afterwards.
 */
const KEPT = new Set([
  'type',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$defs',
  '$ref',
  'pattern',
  'format',
  'multipleOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
]);

type Json = Record<string, unknown>;

/** The schema reduced to the strict subset: every object lists all its properties as required, no extra ones. */
export function toStrictSchema(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key)) continue;
    if ((key === 'properties' || key === '$defs') && value && typeof value === 'object')
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toStrictSchema(v as Json)]));
    else if (key === 'items' && value && typeof value === 'object' && !Array.isArray(value))
      out[key] = toStrictSchema(value as Json);
    else if (key === 'anyOf' && Array.isArray(value)) out[key] = value.map((v) => toStrictSchema(v as Json));
    else out[key] = value;
  }
  if (out.type === 'object' || out.properties) {
    out.properties ??= {};
    out.required = Object.keys(out.properties as Json);
    out.additionalProperties = false;
  }
  return out;
}
