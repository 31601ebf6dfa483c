/**
 * Reading and checking the Kubernetes manifests under deploy/kubernetes, for
 * test/e2e/deploy-kubernetes.e2e-spec.ts. Each document is checked twice against the Kubernetes
 * API types of the kubernetes-models package (no helm, kubeconform or kubeval binary installs
 * from npm or Debian):
 *
 * - its JSON schema (the package's compiled validators): types, required fields, enums and
 *   formats such as quantities (`512MB` is refused, `512Mi` is not);
 * - its TypeScript interface, by compiling the document as an object literal typed with it:
 *   the schemas allow unknown fields, and a misspelled field (`readinesProbe`) is the mistake
 *   that silently drops a setting; TypeScript's excess-property check names it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';

export const ROOT = resolve(__dirname, '..', '..');
export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');

/** One Kubernetes object and where it came from. */
export interface Manifest {
  source: string;
  object: K8sObject;
}

/** Loosely typed: the checks below are what types it. */
export type K8sObject = { apiVersion?: string; kind?: string; metadata?: { name?: string } } & Record<string, unknown>;

interface Model {
  validate(): void;
}

/** The kinds the manifests may use: `<apiVersion>/<kind>` to its validator and its interface. */
const KINDS: Record<string, { create: (o: K8sObject) => Model; module: string; type: string }> = {
  'v1/ConfigMap': { create: (o) => new ConfigMap(o), module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Namespace': { create: (o) => new Namespace(o), module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/Secret': { create: (o) => new Secret(o), module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { create: (o) => new Service(o), module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ServiceAccount': {
    create: (o) => new ServiceAccount(o),
    module: 'kubernetes-models/v1/ServiceAccount',
    type: 'IServiceAccount',
  },
  'apps/v1/Deployment': { create: (o) => new Deployment(o), module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'networking.k8s.io/v1/NetworkPolicy': {
    create: (o) => new NetworkPolicy(o),
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
  'policy/v1/PodDisruptionBudget': {
    create: (o) => new PodDisruptionBudget(o),
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
};

export const label = (m: Manifest) => `${m.source}: ${m.object.kind ?? '?'} ${m.object.metadata?.name ?? '?'}`;

/**
 * Parses YAML as Kubernetes does (YAML 1.1: `0440` is octal, as `defaultMode` wants), one
 * Manifest per document; an empty document is skipped, a syntax error throws.
 */
export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text, { version: '1.1' }).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const object = doc.toJS() as K8sObject | null;
    return object ? [{ source, object }] : [];
  });
}

/** The resource files a kustomization lists, parsed (its generators and patches are kustomize's to apply). */
export function kustomizationResources(dir: string): Manifest[] {
  const [k] = parseManifests(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), join(dir, 'kustomization.yaml'));
  const resources = (k?.object.resources ?? []) as string[];
  return resources
    .filter((r) => existsSync(join(dir, r)) && !existsSync(join(dir, r, 'kustomization.yaml')))
    .flatMap((r) => parseManifests(readFileSync(join(dir, r), 'utf8'), join(dir, r).slice(ROOT.length + 1)));
}

/** `kubectl`'s path if it is installed (kustomize is built into it), else undefined. */
export function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'kubectl'))) return join(dir, 'kubectl');
  }
  return undefined;
}

/** `kubectl kustomize <dir>`: the manifests kustomize renders, as `kubectl apply -k` would apply them. */
export function renderKustomization(kubectl: string, dir: string): Manifest[] {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseManifests(out, `kubectl kustomize ${dir.startsWith(ROOT) ? dir.slice(ROOT.length + 1) : dir}`);
}

/**
 * Every problem found in the manifests, each naming its file, kind and name: an unknown kind,
 * a schema violation, or a field the kind's type does not have. Empty when all are valid.
 */
export function manifestProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const typed: { manifest: Manifest; type: string; module: string }[] = [];
  for (const m of manifests) {
    const key = `${m.object.apiVersion ?? '?'}/${m.object.kind ?? '?'}`;
    const kind = KINDS[key];
    if (!kind) {
      problems.push(`${label(m)}: no schema for ${key} (add it to KINDS in test/deploy/kubernetes-manifests.ts)`);
      continue;
    }
    try {
      kind.create(asDecoded(m.object)).validate();
    } catch (e) {
      problems.push(`${label(m)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    typed.push({ manifest: m, type: kind.type, module: kind.module });
  }
  problems.push(...unknownFields(typed));
  return problems;
}

/**
 * kustomize wraps long base64 values of a Secret's `data` over several lines; the API server's
 * base64 decoding (Go's) skips line breaks, the schema's `byte` format does not, so they are
 * taken out before the schema check, as the server would.
 */
function asDecoded(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) return object;
  const data = Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...object, data };
}

/** Compiles each object as a literal of its kind's interface; TypeScript names every field the type lacks. */
function unknownFields(items: readonly { manifest: Manifest; type: string; module: string }[]): string[] {
  if (!items.length) return [];
  const fileName = join(ROOT, 'test', 'deploy', '__manifests__.ts');
  const imports = [...new Map(items.map((i) => [i.type, i.module])).entries()]
    .map(([type, module]) => `import type { ${type} } from '${module}';`)
    .join('\n');
  let text = `${imports}\n`;
  const starts: number[] = [];
  items.forEach((item, n) => {
    starts.push(text.split('\n').length - 1);
    text += `export const m${n}: ${item.type} = ${JSON.stringify(item.manifest.object, null, 2)};\n`;
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, ...rest) => (resolve(name) === fileName ? source : getSourceFile(name, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === fileName || fileExists(name);
  host.getCurrentDirectory = () => dirname(fileName);
  const program = ts.createProgram([fileName], options, host);
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => {
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
    let n = -1;
    starts.forEach((start, i) => {
      if (start <= line) n = i;
    });
    const where = n >= 0 ? label(items[n].manifest) : 'manifest check';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
