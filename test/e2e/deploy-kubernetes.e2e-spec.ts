/**
 * deploy/kubernetes (issue 13 point 5): every manifest is a valid Kubernetes object (schema and
 * field names, test/deploy/kubernetes-manifests.ts), the checker refuses a misspelled field, a
 * wrong type and a bad quantity, and the rendered example overlay (kubectl kustomize, when
 * kubectl is installed, as on this project's machines; required when CI is set) deploys what docs/deployment.md says:
 * the two roles, probes on /health (the sweeper's too), non-root read-only pods, the Secret's hashed name (a change
 * rolls the pods), the rules' fixed name (reloaded in place), a configuration the broker
 * itself accepts and rules its own parser accepts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@jit/config';
import { parseAccessPolicy } from '@jit/policy';
import { PROVIDER_ENVS } from '../../apps/broker/src/cloud-providers.factory';
import { targetKinds } from '../../apps/broker/src/target-kinds';
import {
  K8sObject,
  KUBERNETES_DIR,
  Manifest,
  ROOT,
  findKubectl,
  kustomizationResources,
  manifestProblems,
  renderKustomization,
} from '../deploy/kubernetes-manifests';

const BASE = join(KUBERNETES_DIR, 'base');
const EXAMPLE = join(KUBERNETES_DIR, 'overlays', 'example');

 
const find = (ms: Manifest[], kind: string, name: string | RegExp): any => {
  const m = ms.find((x) => x.object.kind === kind && (typeof name === 'string' ? x.object.metadata?.name === name : name.test(x.object.metadata?.name ?? '')));
  if (!m) throw new Error(`no ${kind} ${String(name)} in ${ms.map((x) => `${x.object.kind} ${x.object.metadata?.name}`).join(', ')}`);
  return m.object;
};
const clone = <T>(o: T): T => structuredClone(o);

describe('deploy/kubernetes manifests', () => {
  const base = kustomizationResources(BASE);
  const overlayOwn = kustomizationResources(EXAMPLE);

  it('lists resource files that are all valid Kubernetes objects, by schema and by field name', () => {
    expect(base.map((m) => `${m.object.kind}/${m.object.metadata?.name}`).sort()).toEqual([
      'Deployment/jit-broker-api',
      'Deployment/jit-broker-sweeper',
      'NetworkPolicy/jit-broker-api',
      'NetworkPolicy/jit-broker-sweeper',
      'PodDisruptionBudget/jit-broker-api',
      'PodDisruptionBudget/jit-broker-sweeper',
      'Service/jit-broker',
      'ServiceAccount/jit-broker',
    ]);
    expect(manifestProblems([...base, ...overlayOwn])).toEqual([]);
  });

  it('refuses a misspelled field, a wrong type, a bad quantity and an unknown kind, naming the object', () => {
    const api = base.find((m) => m.object.metadata?.name === 'jit-broker-api' && m.object.kind === 'Deployment')!;
    const mutated = (change: (d: any) => void): Manifest => {
      const object = clone(api.object) as any;
      change(object);
      return { source: api.source, object: object as K8sObject };
    };
    const container = (d: any) => d.spec.template.spec.containers[0];
    const cases: [string, Manifest, RegExp][] = [
      ['misspelled probe', mutated((d) => (container(d).readinesProbe = container(d).readinessProbe)), /readinesProbe/],
      ['misspelled spec field', mutated((d) => (d.spec.replica = 2)), /replica\W+ does not exist in type 'IDeploymentSpec'/],
      ['port by name where a number belongs', mutated((d) => (container(d).ports[0].containerPort = 'http')), /containerPort must be integer/],
      ['memory in MB', mutated((d) => (container(d).resources.limits.memory = '512MB')), /memory must match format "quantity"/],
      ['no container name', mutated((d) => delete container(d).name), /must have required property name/],
      ['unknown kind', mutated((d) => (d.kind = 'Deploymnet')), /no schema for apps\/v1\/Deploymnet/],
    ];
    for (const [what, manifest, expected] of cases) {
      const problems = manifestProblems([manifest]);
      expect({ what, problems }).toEqual({ what, problems: expect.arrayContaining([expect.stringMatching(expected)]) });
      expect(problems.every((p) => p.startsWith('deploy/kubernetes/base/api-deployment.yaml: '))).toBe(true);
    }
    expect(manifestProblems([api])).toEqual([]);
  });

  it('writes defaultMode in octal as Kubernetes reads YAML (0440, not 440)', () => {
    for (const name of ['jit-broker-api', 'jit-broker-sweeper']) {
      const volumes = find(base, 'Deployment', name).spec.template.spec.volumes;
      for (const v of volumes.filter((x: any) => x.secret || x.configMap)) expect((v.secret ?? v.configMap).defaultMode).toBe(0o440);
    }
  });

  const kubectl = findKubectl();
  /**
   * On CI (CI set, as GitHub Actions does) a missing kubectl fails these checks instead of skipping
   * them, so the overlay is never left untested unnoticed; elsewhere they are skipped.
   */
  const kubectlRequired = !!process.env.CI;
  const withKubectl = kubectl || kubectlRequired ? it : it.skip;
  const requireKubectl = (): string => {
    if (!kubectl) throw new Error('kubectl is not on PATH and CI is set: the kustomize checks of deploy/kubernetes need it (install kubectl)');
    return kubectl;
  };

  withKubectl('renders the base with kustomize into valid objects only', () => {
    const rendered = renderKustomization(requireKubectl(), BASE);
    expect(manifestProblems(rendered)).toEqual([]);
    expect(find(rendered, 'ConfigMap', 'jit-broker-rules').data['rules.yaml']).toContain('rules: []');
  });

  describe('the example overlay, rendered with the secret files an operator adds', () => {
    let dir: string;
    let rendered: Manifest[] = [];
    const tokensJson = JSON.stringify({ tokens: [{ subject: 'ci-deployer', roles: ['requester'], sha256: 'a'.repeat(64) }] });
    const databaseUrl = 'postgres://jit:secret@postgres.example.internal:5432/jit';

    beforeAll(() => {
      if (!kubectl && !kubectlRequired) return;
      const kubectlPath = requireKubectl();
      dir = mkdtempSync(join(tmpdir(), 'jit-deploy-k8s-'));
      cpSync(KUBERNETES_DIR, join(dir, 'kubernetes'), { recursive: true });
      const overlay = join(dir, 'kubernetes', 'overlays', 'example');
      writeFileSync(join(overlay, 'tokens.json'), tokensJson);
      writeFileSync(join(overlay, 'audit-signing.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(overlay, 'database.env'), `DATABASE_URL=${databaseUrl}\n`);
      rendered = renderKustomization(kubectlPath, overlay);
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const deployments = () => ['jit-broker-api', 'jit-broker-sweeper'].map((n) => find(rendered, 'Deployment', n));
    const containerOf = (d: any) => d.spec.template.spec.containers[0];
    const envOf = (d: any): Record<string, any> => Object.fromEntries(containerOf(d).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

    withKubectl('is valid objects only, in one namespace', () => {
      expect(manifestProblems(rendered)).toEqual([]);
      expect(new Set(rendered.filter((m) => m.object.kind !== 'Namespace').map((m) => (m.object.metadata as any).namespace))).toEqual(new Set(['jit-broker']));
    });

    withKubectl('runs the API role with N replicas and the sweeper role, each with probes on /health of its own port', () => {
      const [api, sweeper] = deployments();
      expect(api.spec.replicas).toBe(3);
      expect(envOf(api).JIT_ROLE).toBe('api');
      const c = containerOf(api);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].httpGet).toEqual({ path: '/health', port: 'http' });
      expect(sweeper.spec.replicas).toBe(2);
      expect(envOf(sweeper).JIT_ROLE).toBe('sweeper');
      // The sweeper's port serves /health and /metrics only (test/e2e/sweeper-role-http).
      const s = containerOf(sweeper);
      expect(s.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(s[probe].httpGet).toEqual({ path: '/health', port: 'http' });
      // Patient enough that a database outage restarts nothing before JIT_SWEEP_STALL_AFTER could have.
      expect(s.livenessProbe.periodSeconds * s.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(120);
      const service = find(rendered, 'Service', 'jit-broker');
      expect(service.spec.selector).toEqual(api.spec.template.metadata.labels);
      expect(service.spec.selector).not.toEqual(sweeper.spec.template.metadata.labels);
      // Inbound: the API's HTTP port from anywhere; the sweeper's port from Prometheus pods only.
      const apiPolicy = find(rendered, 'NetworkPolicy', 'jit-broker-api');
      expect(apiPolicy.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
      expect(find(rendered, 'NetworkPolicy', 'jit-broker-sweeper').spec).toMatchObject({ policyTypes: ['Ingress'] });
      expect(find(rendered, 'NetworkPolicy', 'jit-broker-sweeper').spec.ingress).toEqual([
        { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }], ports: [{ port: 'http', protocol: 'TCP' }] },
      ]);
      for (const d of [api, sweeper]) {
        expect(find(rendered, 'NetworkPolicy', d.metadata.name).spec.podSelector.matchLabels).toEqual(d.spec.template.metadata.labels);
        const pdb = find(rendered, 'PodDisruptionBudget', d.metadata.name);
        expect(pdb.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
        expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      }
    });

    withKubectl('runs non-root, read-only, without capabilities or a service account token, with resources', () => {
      for (const d of deployments()) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
        // The Secret's files are root's in fsGroup (0440): the broker's key check accepts its own group only.
        expect(pod.securityContext.runAsGroup).toBe(pod.securityContext.fsGroup);
        expect(pod.automountServiceAccountToken).toBe(false);
        for (const c of pod.containers) {
          expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
          expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
          expect(c.resources.limits.memory).toEqual(expect.any(String));
          expect(c.image).toBe('registry.example.com/platform/jit-broker:0.1.0');
        }
      }
    });

    withKubectl('takes the database URL, tokens and signing key from a Secret whose hashed name rolls the pods on change', () => {
      const secret = find(rendered, 'Secret', /^jit-broker-secrets-[a-z0-9]{10}$/);
      const decoded = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
      expect(Object.keys(decoded).sort()).toEqual(['DATABASE_URL', 'audit-signing.pem', 'tokens.json']);
      expect(decoded.DATABASE_URL).toBe(databaseUrl);
      for (const d of deployments()) {
        const env = envOf(d);
        expect(env.DATABASE_URL).toEqual({ secretKeyRef: { name: secret.metadata.name, key: 'DATABASE_URL' } });
        const volume = d.spec.template.spec.volumes.find((v: any) => v.secret);
        expect(volume.secret.secretName).toBe(secret.metadata.name);
        const mount = containerOf(d).volumeMounts.find((m: any) => m.name === volume.name);
        const config = find(rendered, 'ConfigMap', /^jit-broker-config-[a-z0-9]{10}$/).data;
        expect(config.JIT_AUDIT_SIGNING_KEY).toBe(`${mount.mountPath}/audit-signing.pem`);
        expect(volume.secret.items.map((i: any) => i.key)).toContain('audit-signing.pem');
        expect(containerOf(d).envFrom).toEqual([{ configMapRef: { name: find(rendered, 'ConfigMap', /^jit-broker-config-/).metadata.name } }]);
      }
      // Both check tokens: the API on every route, the sweeper on /metrics.
      for (const d of deployments()) {
        expect(envOf(d).JIT_TOKENS_FILE).toBe('/etc/jit-broker/secrets/tokens.json');
        expect(d.spec.template.spec.volumes.find((v: any) => v.secret).secret.items.map((i: any) => i.key)).toContain('tokens.json');
      }
    });

    withKubectl('mounts the rules ConfigMap under its fixed name as a folder, so an edit reaches the running broker', () => {
      const rules = find(rendered, 'ConfigMap', 'jit-broker-rules');
      const config = find(rendered, 'ConfigMap', /^jit-broker-config-/).data;
      for (const d of deployments()) {
        const volume = d.spec.template.spec.volumes.find((v: any) => v.configMap?.name === 'jit-broker-rules');
        const mount = containerOf(d).volumeMounts.find((m: any) => m.name === volume.name);
        expect(mount.subPath).toBeUndefined();
        expect(config.JIT_POLICY_FILE).toBe(`${mount.mountPath}/rules.yaml`);
      }
      // The broker's own parser accepts the rules the overlay deploys.
      const policy = parseAccessPolicy(rules.data['rules.yaml'], 'rules.yaml', new Date(), targetKinds);
      expect(policy.file.rules.map((r) => r.name)).toEqual(['ci-storage']);
    });

    withKubectl('gives the broker a configuration it accepts, naming only documented variables', () => {
      const documented = new Set([...readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8').matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]));
      const config = find(rendered, 'ConfigMap', /^jit-broker-config-/).data as Record<string, string>;
      for (const d of deployments()) {
        const env: Record<string, string> = { ...config };
        for (const [name, value] of Object.entries(envOf(d))) env[name] = typeof value === 'string' ? value : 'postgres://jit@db:5432/jit';
        expect(Object.keys(env).filter((name) => !documented.has(name))).toEqual([]);
        const loaded = loadConfig(env, PROVIDER_ENVS);
        expect(loaded.broker.role).toBe(envOf(d).JIT_ROLE);
        expect(loaded.broker.providers).toEqual(['gcp']);
        // The broker's own deadline ends a shutdown, not the kubelet's SIGKILL.
        const preStopMs = Number(containerOf(d).lifecycle?.preStop?.exec?.command?.[1] ?? 0) * 1000;
        expect(loaded.broker.shutdownDeadlineMs + preStopMs).toBeLessThan(d.spec.template.spec.terminationGracePeriodSeconds * 1000);
      }
    });
  });
});
