/** Checks real HTTP answers against the service's own OpenAPI document (status, body schema, headers). */
import { Ajv, type ValidateFunction } from 'ajv';

interface MediaType {
  schema?: object;
}

interface ResponseObject {
  content?: Record<string, MediaType>;
  headers?: Record<string, { schema?: object }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface AnsweredRequest {
  /** The document's path template, e.g. /v1/inference/sentiment_analysis. */
  readonly path: string;
  readonly method: string;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Every (path, method, status) the document declares, as "POST /v1/... 429". */
export function documentedResponses(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) =>
      Object.keys(operation.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
    ),
  );
}

/**
 * A checker of answers against `doc`: what the answer breaks (an undocumented status, a body outside the documented
 * schema or media type, a documented header missing or outside its schema); empty when it matches.
 */
export function responseChecker(doc: OpenApiDocument): (answer: AnsweredRequest) => string[] {
  // OpenAPI 3.0 schemas are JSON Schema plus keywords such as `example`, which are annotations here.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'openapi.json', components: doc.components ?? {} });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (schema: object) => {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      // $ref '#/components/...' points into the document, registered above as openapi.json.
      validate = ajv.compile(JSON.parse(key.replaceAll('"#/components/', '"openapi.json#/components/')) as object);
      compiled.set(key, validate);
    }
    return validate;
  };
  const failures = (validate: ValidateFunction, value: unknown, what: string) =>
    validate(value) ? [] : [`${what}: ${ajv.errorsText(validate.errors)}`];

  return (answer) => {
    const name = `${answer.method} ${answer.path} ${answer.status}`;
    const documented = doc.paths[answer.path]?.[answer.method.toLowerCase()]?.responses[String(answer.status)];
    if (!documented) {
      return [`${name}: status not in the document`];
    }
    const problems: string[] = [];
    const contentType = String(answer.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const media = documented.content;
    if (media) {
      const entry = media[contentType];
      if (!entry) {
        problems.push(`${name}: Content-Type ${contentType || '(none)'}, documented ${Object.keys(media).join(', ')}`);
      } else if (entry.schema && contentType === 'application/json') {
        problems.push(...failures(validator(entry.schema), JSON.parse(answer.text) as unknown, `${name} body`));
      }
    }
    for (const [header, { schema }] of Object.entries(documented.headers ?? {})) {
      const value = answer.headers[header.toLowerCase()];
      if (value === undefined) {
        problems.push(`${name}: documented header ${header} missing`);
      } else if (schema) {
        const text = String(value);
        const typed = (schema as { type?: string }).type === 'integer' ? Number(text) : text;
        problems.push(...failures(validator(schema), typed, `${name} header ${header}`));
      }
    }
    return problems;
  };
}
