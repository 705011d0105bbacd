/**
 * OpenAI's documented rules for strict structured outputs and strict function calling ("Structured Outputs →
 * Supported schemas"), written independently of src/integrations/strict-schema.ts so a test can hold one against
 * the other. The fake OpenAI answers a request that breaks them as OpenAI does: 400 invalid_request_error.
 */
export const SUPPORTED_TYPES = ['string', 'number', 'boolean', 'integer', 'object', 'array', 'null'];

/** Keywords the documentation lists for strict mode (types, structure, and the supported constraints). */
export const STRICT_KEYWORDS = new Set([
  // structure
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$defs',
  '$ref',
  'description',
  // string
  'pattern',
  'format',
  // number
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  // array
  'minItems',
  'maxItems',
]);

const MAX_DEPTH = 10;
const MAX_PROPERTIES = 5000;
const MAX_ENUM_VALUES = 1000;

type Json = Record<string, unknown>;

/** Every way `schema` breaks the strict rules, as OpenAI words them ("In context=(…), …"); empty when it is fine. */
export function strictSchemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  const counts = { properties: 0, enumValues: 0 };
  if (!schema || typeof schema !== 'object') return ['schema must be a JSON object'];
  const root = schema as Json;
  if (root.type !== 'object') problems.push('In context=(), schema must be a JSON Schema of \'type: "object"\'');
  if ('anyOf' in root) problems.push("In context=(), 'anyOf' is not permitted at the root");
  walk(root, [], 0, problems, counts);
  if (counts.properties > MAX_PROPERTIES) problems.push(`more than ${MAX_PROPERTIES} object properties`);
  if (counts.enumValues > MAX_ENUM_VALUES) problems.push(`more than ${MAX_ENUM_VALUES} enum values`);
  return problems;
}

function walk(node: Json, path: string[], depth: number, problems: string[], counts: Record<string, number>) {
  const context = `In context=(${path.map((p) => `'${p}'`).join(', ')})`;
  if (depth > MAX_DEPTH) problems.push(`${context}, nesting deeper than ${MAX_DEPTH} levels`);
  for (const key of Object.keys(node))
    if (!STRICT_KEYWORDS.has(key)) problems.push(`${context}, '${key}' is not permitted.`);
  const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
  for (const t of types)
    if (!SUPPORTED_TYPES.includes(t as string)) problems.push(`${context}, type '${String(t)}' is not supported`);
  if (Array.isArray(node.enum)) counts.enumValues! += node.enum.length;
  if (types.includes('object') || node.properties !== undefined) {
    const properties = (node.properties ?? {}) as Record<string, Json>;
    const required = Array.isArray(node.required) ? (node.required as string[]) : [];
    if (node.additionalProperties !== false)
      problems.push(`${context}, 'additionalProperties' is required to be supplied and to be false.`);
    const missing = Object.keys(properties).filter((k) => !required.includes(k));
    if (missing.length > 0)
      problems.push(
        `${context}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`,
      );
    for (const [name, child] of Object.entries(properties)) {
      counts.properties! += 1;
      walk(child, [...path, 'properties', name], depth + 1, problems, counts);
    }
  }
  if (node.items && typeof node.items === 'object')
    walk(node.items as Json, [...path, 'items'], depth + 1, problems, counts);
  if (Array.isArray(node.anyOf))
    node.anyOf.forEach((s, i) => walk(s as Json, [...path, 'anyOf', String(i)], depth + 1, problems, counts));
  if (node.$defs && typeof node.$defs === 'object')
    for (const [name, child] of Object.entries(node.$defs as Record<string, Json>))
      walk(child, [...path, '$defs', name], depth + 1, problems, counts);
}

/** OpenAI's error body for a request it refuses before running the model. */
export const invalidRequest = (message: string, param: string | null, code: string | null = null) => ({
  status: 400,
  body: { error: { message, type: 'invalid_request_error', param, code } },
});

/** The request checks OpenAI makes on a chat completion that the fake makes too; null when the request is fine. */
export function chatRequestProblem(request: Json): ReturnType<typeof invalidRequest> | null {
  const format = request.response_format as { type?: string; json_schema?: Json } | undefined;
  if (format?.type === 'json_schema') {
    const spec = format.json_schema ?? {};
    const name = spec.name;
    if (typeof name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(name))
      return invalidRequest("Invalid 'response_format.json_schema.name'", 'response_format.json_schema.name');
    if (spec.strict === true) {
      const problems = strictSchemaProblems(spec.schema);
      if (problems.length > 0)
        return invalidRequest(`Invalid schema for response_format '${name}': ${problems[0]}`, 'response_format');
    }
  }
  const tools = request.tools as { type: string; function: Json }[] | undefined;
  if (request.parallel_tool_calls !== undefined && !(Array.isArray(tools) && tools.length > 0))
    return invalidRequest(
      "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
      'parallel_tool_calls',
    );
  for (const [i, tool] of (tools ?? []).entries()) {
    const fn = tool.function ?? {};
    if (typeof fn.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(fn.name))
      return invalidRequest(`Invalid 'tools[${i}].function.name'`, `tools[${i}].function.name`);
    if (fn.strict === true) {
      const problems = strictSchemaProblems(fn.parameters);
      if (problems.length > 0)
        return invalidRequest(
          `Invalid schema for function '${fn.name}': ${problems[0]}`,
          `tools[${i}].function.parameters`,
          'invalid_function_parameters',
        );
    }
  }
  // The SDK's reference: "a string that uniquely identifies each user, with a maximum length of 64 characters".
  if (typeof request.safety_identifier === 'string' && request.safety_identifier.length > 64)
    return invalidRequest(
      "Invalid 'safety_identifier': string too long. Expected a string with maximum length 64.",
      'safety_identifier',
      'string_above_max_length',
    );
  return null;
}
