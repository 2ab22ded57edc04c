/**
 * Check an HTTP answer against the OpenAPI document (as served): the status is documented for the route, the
 * content type is the documented one, the body validates against the document's JSON Schema (read back with
 * zod's fromJSONSchema, $refs resolved), and an error's code is one the document lists for that status.
 * Used by test/unit/openapi.test.ts (API harness) and test/e2e/network.test.ts (real validators).
 */
import { z } from 'zod';

type Json = Record<string, unknown>;
export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Json }>; 'x-error-codes'?: string[] }> }>>;
  components: { schemas: Record<string, Json> };
}

/** `schema` with its $refs replaced by the components they name (the document has no cycles). */
export function derefSchema(doc: OpenApiDoc, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((s) => derefSchema(doc, s));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as Json).$ref;
  if (typeof ref === 'string') {
    const target = doc.components.schemas[ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`dangling $ref ${ref}`);
    return derefSchema(doc, target);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, derefSchema(doc, v)]));
}

/** A zod schema from one of the document's JSON Schemas. */
export function zodOf(doc: OpenApiDoc, schema: unknown): z.ZodType {
  return z.fromJSONSchema(derefSchema(doc, schema) as Parameters<typeof z.fromJSONSchema>[0]);
}

/**
 * What is wrong with this answer of `method` `path` (OpenAPI path syntax, `/proofs/{id}`) by the document: an empty
 * list when nothing is.
 */
export function answerProblems(doc: OpenApiDoc, method: string, path: string, status: number, contentType: string, text: string): string[] {
  const where = `${method.toUpperCase()} ${path} -> ${status}`;
  const answer = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  if (!answer) return [`${where}: status not documented (${text.slice(0, 200)})`];
  const [type, media] = Object.entries(answer.content)[0]!;
  if (!contentType.includes(type)) return [`${where}: content type ${contentType}, documented ${type}`];
  let body: unknown = text;
  if (type === 'application/json') {
    try {
      body = JSON.parse(text);
    } catch {
      return [`${where}: not JSON: ${text.slice(0, 200)}`];
    }
  }
  const parsed = zodOf(doc, media.schema).safeParse(body);
  if (!parsed.success) return [`${where}: ${text.slice(0, 300)}\n${parsed.error.message}`];
  const codes = answer['x-error-codes'];
  const code = (body as { error?: { code?: string } }).error?.code;
  if (codes && (code === undefined || !codes.includes(code))) return [`${where}: code ${code} is not among ${codes.join(', ')}`];
  return [];
}
