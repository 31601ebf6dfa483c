import { SPECS_DIR } from '../../setup/specs-dir';
import { readFileSync } from 'node:fs';

interface SchemaNode {
  type?: string;
  format?: string;
  $ref?: string;
  enum?: string[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
}

interface DiscoveryDocument {
  schemas: Record<string, SchemaNode>;
  resources: Record<string, { methods: Record<string, { httpMethod: string; flatPath: string; request?: { $ref: string }; response?: { $ref: string } }> }>;
}

export const DISCOVERY_PATH = `${SPECS_DIR}/gcp/cloudresourcemanager/v3/cloudresourcemanager-api.json`;

/**
 * Checks JSON against a schema of the Cloud Resource Manager v3 discovery document: no unknown
 * field names, JSON types per `type`/`format` (int32 as number, bytes as base64, google-fieldmask
 * as string), enum values from `enum` (or their index when `enum-encoding=int` was requested).
 * Returns the problems found, empty when the value conforms.
 */
export function discoveryValidator(path = DISCOVERY_PATH) {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as DiscoveryDocument;

  const check = (node: SchemaNode, value: unknown, at: string, numericEnums: boolean, problems: string[]): void => {
    if (node.$ref) return check(doc.schemas[node.$ref], value, at, numericEnums, problems);
    if (node.enum) {
      const ok = numericEnums ? Number.isInteger(value) && (value as number) >= 0 && (value as number) < node.enum.length : node.enum.includes(value as string);
      if (!ok) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${node.enum.join(', ')}`);
      return;
    }
    switch (node.type) {
      case 'object': {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return void problems.push(`${at}: expected an object`);
        for (const [key, v] of Object.entries(value)) {
          const prop = node.properties?.[key] ?? node.additionalProperties;
          if (!prop) problems.push(`${at}.${key}: not a field of the schema`);
          else check(prop, v, `${at}.${key}`, numericEnums, problems);
        }
        return;
      }
      case 'array':
        if (!Array.isArray(value)) return void problems.push(`${at}: expected an array`);
        return value.forEach((v, i) => check(node.items!, v, `${at}[${i}]`, numericEnums, problems));
      case 'integer':
        if (!Number.isInteger(value)) problems.push(`${at}: expected an integer (${node.format}), got ${JSON.stringify(value)}`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') problems.push(`${at}: expected a boolean`);
        return;
      case 'string':
        if (typeof value !== 'string') return void problems.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
        if (node.format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) problems.push(`${at}: not base64`);
        return;
      case 'any':
        return;
      default:
        problems.push(`${at}: schema type ${node.type} not understood by the validator`);
    }
  };

  return {
    document: doc,
    validate(schema: string, value: unknown, options: { numericEnums?: boolean } = {}): string[] {
      const problems: string[] = [];
      check({ $ref: schema }, value, schema, options.numericEnums ?? false, problems);
      return problems;
    },
    /** The discovery method (e.g. `projects.setIamPolicy`) whose flatPath and verb match a request. */
    method(httpMethod: string, path: string) {
      for (const [resourceName, resource] of Object.entries(doc.resources)) {
        for (const [name, m] of Object.entries(resource.methods ?? {})) {
          const pattern = new RegExp(`^/${m.flatPath.replace(/\{[^}]+\}/g, '[^/:]+')}$`);
          if (m.httpMethod === httpMethod && pattern.test(path)) return { id: `${resourceName}.${name}`, ...m };
        }
      }
      return undefined;
    },
  };
}
