/**
 * What the request form and the audit filters read from the broker's own OpenAPI document (GET
 * /docs, the document of the broker that answers, so only the target kinds it serves): each
 * target kind's fields, the principal types, the audit event types.
 */
import { useQuery } from '@tanstack/react-query';
import { api } from './api';

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  description?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  $ref?: string;
}

export interface TargetField {
  name: string;
  required: boolean;
  /** text: one string; list: an array of strings (one a line); choice: one of `options`. */
  input: 'text' | 'list' | 'choice';
  options?: string[];
  pattern?: string;
  description?: string;
  defaultValue?: string;
  maxLength?: number;
}

export interface TargetKindForm {
  kind: string;
  cloud: string;
  fields: TargetField[];
}

export interface ApiSchema {
  clouds: string[];
  principalTypes: string[];
  kinds: TargetKindForm[];
  auditTypes: string[];
}

function field(name: string, schema: JsonSchema, required: boolean): TargetField {
  const base = { name, required, description: schema.description, maxLength: schema.maxLength };
  const defaultValue = schema.default === undefined ? undefined : Array.isArray(schema.default) ? schema.default.join('\n') : typeof schema.default === 'string' ? schema.default : JSON.stringify(schema.default);
  if (schema.enum) return { ...base, input: 'choice', options: schema.enum.map(String), defaultValue };
  if (schema.type === 'array' || schema.items) {
    return { ...base, input: 'list', pattern: schema.items?.pattern, description: schema.description ?? schema.items?.description, defaultValue };
  }
  return { ...base, input: 'text', pattern: schema.pattern, defaultValue };
}

export function readApiSchema(document: unknown): ApiSchema {
  const doc = document as { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>; components?: { schemas?: Record<string, JsonSchema> } };
  const request = doc.paths?.['/v1/grants']?.post?.requestBody?.content?.['application/json']?.schema;
  const props = request?.properties ?? {};
  const variants = props.target?.oneOf ?? props.target?.anyOf ?? [];
  const kinds = variants.flatMap((variant): TargetKindForm[] => {
    const kind = variant.properties?.kind?.const;
    if (typeof kind !== 'string') return [];
    const required = new Set(variant.required ?? []);
    const fields = Object.entries(variant.properties ?? {})
      .filter(([name]) => name !== 'kind')
      .map(([name, schema]) => field(name, schema, required.has(name)));
    return [{ kind, cloud: kind.split('.')[0], fields }];
  });
  const auditType = doc.components?.schemas?.AuditEvent?.properties?.type;
  return {
    clouds: (props.cloud?.enum ?? []).map(String),
    principalTypes: (props.principal?.properties?.type?.enum ?? ['user', 'group', 'workload']).map(String),
    kinds,
    auditTypes: (auditType?.enum ?? []).map(String),
  };
}

/** The broker's OpenAPI document, read once per session. */
export function useApiSchema() {
  return useQuery({
    queryKey: ['openapi'],
    queryFn: async ({ signal }) => {
      const { data } = await api.api.GET('/docs', { signal });
      return readApiSchema(data);
    },
    staleTime: Infinity,
  });
}
