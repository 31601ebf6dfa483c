import { readFileSync } from 'node:fs';
import type { RecordedJsonRequest } from '@jit/sim-aws';
import { SPECS_DIR } from '../../setup/specs-dir';

/**
 * The botocore models of sso-admin, identitystore and organizations (shared/specs), and a check of
 * one recorded awsJson call against them: target, content type, signing name, the SDK's input and
 * the simulator's output (members declared, required present, types, enums, lengths, patterns),
 * and errors the operation declares.
 */
interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  document?: boolean;
  documentation?: string;
  [k: string]: unknown;
}
interface Model {
  metadata: { apiVersion: string; targetPrefix: string; signingName?: string; endpointPrefix: string; protocol: string; jsonVersion: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, Shape>;
}

export const SERVICES = { 'sso-admin': '2020-07-20', identitystore: '2020-06-15', organizations: '2016-11-28' } as const;
export type Service = keyof typeof SERVICES;
const SPECS = process.env.AWS_BOTOCORE_MODELS ?? `${SPECS_DIR}/aws`;
export const models = Object.fromEntries(
  Object.entries(SERVICES).map(([s, v]) => [s, JSON.parse(readFileSync(`${SPECS}/${s}/${v}/service-2.json`, 'utf8')) as Model]),
) as Record<Service, Model>;
export const paginators = Object.fromEntries(
  Object.entries(SERVICES).map(([s, v]) => [s, (JSON.parse(readFileSync(`${SPECS}/${s}/${v}/paginators-1.json`, 'utf8')) as { pagination: Record<string, unknown> }).pagination]),
) as Record<Service, Record<string, unknown>>;

export function withoutDocs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDocs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'documentation' && k !== 'deprecatedMessage').map(([k, v]) => [k, withoutDocs(v)]));
  }
  return value;
}

function modelPattern(pattern: string): RegExp {
  const source = pattern
    .replace(/\(\?i\)\(arn\|aws\)/g, '(?:[aA][rR][nN]|[aA][wW][sS])')
    .replace(/\\u([0-9A-Fa-f]{5,6})/g, '\\u{$1}');
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    return new RegExp(`^(?:${source.replace(/\\([ '"&#@%~=!:,;<>`])/g, '$1')})$`, 'u');
  }
}

/** Checks a JSON value against a botocore shape: members declared, required present, types, enums, lengths, patterns. */
export function check(model: Model, shapeName: string, value: unknown, where: string): string[] {
  const shape = model.shapes[shapeName];
  if (shape.document) return [];
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where}: not an object`];
      const object = value as Record<string, unknown>;
      const problems = Object.keys(object)
        .filter((k) => !shape.members?.[k])
        .map((k) => `${where}: ${k} is not a member of ${shapeName}`);
      for (const r of shape.required ?? []) if (object[r] === undefined) problems.push(`${where}: required ${r} missing`);
      for (const [k, v] of Object.entries(object)) if (shape.members?.[k]) problems.push(...check(model, shape.members[k].shape, v, `${where}.${k}`));
      return problems;
    }
    case 'list':
      if (!Array.isArray(value)) return [`${where}: not a list`];
      return value.flatMap((v, i) => check(model, shape.member!.shape, v, `${where}[${i}]`));
    case 'string': {
      if (typeof value !== 'string') return [`${where}: not a string`];
      const problems: string[] = [];
      if (shape.enum && !shape.enum.includes(value)) problems.push(`${where}: ${value} not in ${shape.enum.join('|')}`);
      if (shape.min !== undefined && [...value].length < shape.min) problems.push(`${where}: shorter than ${shape.min}`);
      if (shape.max !== undefined && [...value].length > shape.max) problems.push(`${where}: longer than ${shape.max}`);
      if (shape.pattern && !modelPattern(shape.pattern).test(value)) problems.push(`${where}: ${value} does not match ${shape.pattern}`);
      return problems;
    }
    case 'integer':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value) ? [] : [`${where}: not an integer`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${where}: not a boolean`];
    case 'timestamp':
      return typeof value === 'number' ? [] : [`${where}: not epoch seconds`];
    default:
      return [];
  }
}

/**
 * Where the API reference overrides the kept model: an inline policy may have 32,768 characters
 * (the model says 10,240), and GetInlinePolicyForPermissionSet returns an empty string for a set
 * without one ("it is possible for an empty inline policy to be returned").
 */
const DOCUMENTED_DEVIATIONS = [
  /^PutInlinePolicyToPermissionSet input\.InlinePolicy: longer than 10240$/,
  /^GetInlinePolicyForPermissionSet output\.InlinePolicy: (shorter than 1| does not match .*)$/,
];

export function checkCall(r: RecordedJsonRequest): string[] {
  const model = models[r.service];
  if (!model) return [`${r.target}: unknown service`];
  const op = model.operations[r.operation];
  if (!op) return [`${r.service}: no operation ${r.operation}`];
  const problems: string[] = [];
  if (r.method !== 'POST' || r.path !== '/') problems.push(`${r.operation}: ${r.method} ${r.path}`);
  if (r.contentType !== `application/x-amz-json-${model.metadata.jsonVersion}`) problems.push(`${r.operation}: content-type ${r.contentType}`);
  if (r.target !== `${model.metadata.targetPrefix}.${r.operation}`) problems.push(`${r.operation}: target ${r.target}`);
  if (r.signingName !== (model.metadata.signingName ?? model.metadata.endpointPrefix)) problems.push(`${r.operation}: signed for ${r.signingName}`);
  // A request the simulator refused may break the model on purpose; one it accepted must not.
  if (op.input && r.status === 200) problems.push(...check(model, op.input.shape, r.input, `${r.operation} input`));
  if (r.status === 200) {
    problems.push(...(op.output ? check(model, op.output.shape, r.output, `${r.operation} output`) : Object.keys(r.output ?? {}).map((k) => `${r.operation}: output ${k} without an output shape`)));
  } else {
    const declared = (op.errors ?? []).map((e) => e.shape);
    if (!declared.includes(r.errorCode!) && !['ValidationException', 'SerializationException'].includes(r.errorCode!)) {
      problems.push(`${r.operation}: error ${r.errorCode} not declared (${declared.join(', ')})`);
    }
  }
  return problems.filter((p) => !DOCUMENTED_DEVIATIONS.some((d) => d.test(p)));
}
