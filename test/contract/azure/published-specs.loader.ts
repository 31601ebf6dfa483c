import { SPECS_DIR } from '../../setup/specs-dir';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Azure REST specs and Graph CSDL shipped under shared/specs (see its README). */
export { SPECS_DIR };
const AUTHZ = 'azure-arm/specification/authorization/resource-manager/Microsoft.Authorization/Authorization/stable';

interface SwaggerProperty {
  readOnly?: boolean;
  enum?: string[];
  properties?: Record<string, SwaggerProperty>;
  $ref?: string;
}

export interface Swagger {
  info: { version: string };
  paths: Record<string, unknown>;
  definitions: Record<string, { properties: Record<string, SwaggerProperty>; required?: string[] }>;
}

export function loadSwagger(relative: string): Swagger {
  return JSON.parse(readFileSync(join(SPECS_DIR, AUTHZ, relative), 'utf8')) as Swagger;
}

/** `/{scope}/providers/…/{name}` as a regex over concrete paths (`{scope}` spans segments). */
export function pathTemplate(template: string): RegExp {
  const body = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part === '{scope}' || part === '{roleAssignmentId}' ? '.+' : part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

export interface CsdlType {
  base?: string;
  properties: Map<string, string>;
}

export interface Csdl {
  types: Map<string, CsdlType>;
  enums: Map<string, string[]>;
  /** Entity sets of the service (e.g. `directoryObjects`) and the entity type each holds. */
  entitySets: Map<string, string>;
  /** Every property of a type, its base types' included. */
  propertiesOf(type: string): Map<string, string>;
}

export function loadCsdl(): Csdl {
  const xml = readFileSync(join(SPECS_DIR, 'graph/cleanMetadata.xml'), 'utf8');
  const types = new Map<string, CsdlType>();
  // Self-closing types (no properties of their own) must not swallow the next type's body.
  for (const m of xml.matchAll(/<(EntityType|ComplexType) Name="(\w+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/g)) {
    const base = /BaseType="graph\.(\w+)"/.exec(m[3])?.[1];
    const properties = new Map<string, string>();
    for (const p of (m[4] ?? '').matchAll(/<Property Name="(\w+)" Type="([^"]+)"/g)) properties.set(p[1], p[2]);
    // The first schema is microsoft.graph; later namespaces (externalConnectors, ...) reuse names like group and user.
    if (!types.has(m[2])) types.set(m[2], { base, properties });
  }
  const enums = new Map<string, string[]>();
  for (const m of xml.matchAll(/<EnumType Name="(\w+)"[^>]*>([\s\S]*?)<\/EnumType>/g)) {
    if (!enums.has(m[1])) enums.set(m[1], [...m[2].matchAll(/<Member Name="(\w+)"/g)].map((x) => x[1]));
  }
  const entitySets = new Map<string, string>();
  for (const m of xml.matchAll(/<EntitySet Name="(\w+)" EntityType="microsoft\.graph\.(\w+)"/g)) entitySets.set(m[1], m[2]);
  return {
    types,
    enums,
    entitySets,
    propertiesOf(type: string) {
      const out = new Map<string, string>();
      for (let t: string | undefined = type; t; t = types.get(t)?.base) {
        for (const [k, v] of types.get(t)?.properties ?? []) out.set(k, v);
      }
      return out;
    },
  };
}
