import { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer, RequestLog, readBody, startLoopbackServer } from '@jit/sim-kit';
import { CLOUD_IDENTITY_PATH, CloudIdentityRoutes } from './cloud-identity.routes';
import { CloudIdentityStore } from './cloud-identity.store';
import { FaultInjector, FaultPlan } from './fault.injector';
import { GoogleApiError } from './google-api.error';
import { IamPolicyStore } from './iam-policy.store';
import { AuditConfig, Binding, PolicySeed, StoredPolicy } from './iam-policy.types';
import { INSIGHTS_ROUTE, PolicyInsightSeed, PolicyInsightStore } from './policy-insights';
import { parseGetIamPolicyRequest, parseSetIamPolicyRequest, parseTestIamPermissionsRequest } from './proto-json.parser';
import { ResourceDirectory, ResourceMetaSeed, SEARCH_ROUTE, SearchKind } from './resource-search';

const ROUTE = /^\/v3\/((projects|folders|organizations)\/([^/:]+)):(getIamPolicy|setIamPolicy|testIamPermissions)$/;
/** projects.get: `GET v3/{+name}`, name `projects/<number>` or `projects/<id>`. */
const GET_PROJECT = /^\/v3\/(projects\/([^/:]+))$/;
/** Where the simulator starts numbering projects: real project numbers are 12-digit int64s. */
const FIRST_PROJECT_NUMBER = 100_000_000_001;

interface ProjectRecord {
  id: string;
  number: string;
  createTime: string;
}
/** Recorded calls kept for wire-format checks; older ones are dropped. */
const MAX_TRAFFIC = 20_000;

export interface TrafficEntry {
  rpc: string | null;
  resource: string | null;
  method: string;
  path: string;
  query: string;
  authorization: string | undefined;
  contentType: string | undefined;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

export interface SimulatorStats {
  getIamPolicy: number;
  /** Successful writes only. */
  setIamPolicy: number;
  /** Writes refused with 409 ABORTED. */
  aborted: number;
}

/**
 * A local Resource Manager v3 that speaks the REST wire format the Google client libraries use
 * with `fallback: true` (cloud-apis.md C1-C3): allow policies of projects, folders and
 * organizations, with GCP's etag, version and limit rules and injectable faults.
 */
export class GcpSimulator {
  private readonly store = new IamPolicyStore();
  private readonly faults = new FaultInjector();
  private readonly denied = new Set<string>();
  private readonly beforeWrite: Array<(resource: string) => void> = [];
  private readonly counters = new Map<string, SimulatorStats>();
  /** Projects by id and by number: GCP accepts either name for a project. */
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly projectsByNumber = new Map<string, ProjectRecord>();
  /** Cloud Identity groups (v1, cloud-identity.routes.ts) on the same port, with the same faults and token. */
  readonly groups = new CloudIdentityStore();
  private readonly groupRoutes = new CloudIdentityRoutes(this.groups);
  private nextProjectNumber = FIRST_PROJECT_NUMBER;
  private readonly recorded = new RequestLog<TrafficEntry>(MAX_TRAFFIC);
  /** Discovery (issue 16): resource metadata for search, and the Recommender's IAM policy insights. */
  private readonly directory = new ResourceDirectory();
  private readonly insights = new PolicyInsightStore();
  readonly host: string;
  readonly port: number;

  private constructor(
    private readonly server: LoopbackServer,
    private readonly token: string | undefined,
  ) {
    this.host = server.host;
    this.port = server.port;
  }

  /** Starts on 127.0.0.1; `port: 0` (the default) picks a free port. `token` pins the accepted bearer token. */
  static async start(options: { port?: number; host?: string; token?: string } = {}): Promise<GcpSimulator> {
    let simulator: GcpSimulator | undefined;
    const server = await startLoopbackServer(
      { name: 'GCP', hosts: ['127.0.0.1', 'localhost'], port: options.port, host: options.host },
      () => (req, res) => simulator!.handle(req, res),
    );
    simulator = new GcpSimulator(server, options.token);
    return simulator;
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Creates `projects/<id>` with the next project number (see projectNumber); returns the id form. */
  createProject(id: string, policy?: PolicySeed, meta: ResourceMetaSeed = {}): string {
    const resource = this.createResource(`projects/${id}`, policy);
    const record = { id, number: String(this.nextProjectNumber++), createTime: new Date().toISOString() };
    this.projects.set(id, record);
    this.projectsByNumber.set(record.number, record);
    this.directory.add({ ...meta, name: `projects/${record.number}`, policyResource: resource, projectId: id, createTime: record.createTime });
    return resource;
  }

  /** The number GCP gave a project: `projects/<number>` names the same project as `projects/<id>`. */
  projectNumber(id: string): string {
    const record = this.projects.get(id);
    if (!record) throw new Error(`no project ${id}`);
    return record.number;
  }

  /** A folder; search lists it only with a `meta.parent` (GCP requires one), under organizations/0 otherwise. */
  createFolder(number: string | number, policy?: PolicySeed, meta: ResourceMetaSeed = {}): string {
    const resource = this.createResource(`folders/${number}`, policy);
    this.directory.add({ parent: 'organizations/0', ...meta, name: resource, policyResource: resource, createTime: new Date().toISOString() });
    return resource;
  }

  createOrganization(number: string | number, policy?: PolicySeed, meta: ResourceMetaSeed = {}): string {
    const resource = this.createResource(`organizations/${number}`, policy);
    this.directory.add({ ...meta, name: resource, policyResource: resource, createTime: new Date().toISOString() });
    return resource;
  }

  /** Marks a resource deleted (`DELETE_REQUESTED`) or active again, as search reports it. */
  setLifecycleState(resource: string, state: 'ACTIVE' | 'DELETE_REQUESTED'): void {
    this.directory.setState(this.canonical(resource), state);
  }

  /** Seeds an IAM policy insight (Recommender `google.iam.policy.Insight`) on a project, folder or organization. */
  addPolicyInsight(resource: string, insight: PolicyInsightSeed): string {
    if (!this.store.has(this.canonical(resource))) throw new Error(`no resource ${resource}`);
    return this.insights.add(this.canonical(resource), insight);
  }

  /** Enables or disables the Recommender API on a resource (disabled: insights.list answers 403). */
  setRecommenderEnabled(resource: string, enabled: boolean): void {
    this.insights.setEnabled(this.canonical(resource), enabled);
  }

  /** Every call on `resource` answers 403 PERMISSION_DENIED, as when the broker lacks the role there. */
  denyCaller(resource: string, denied = true): void {
    if (denied) this.denied.add(this.canonical(resource));
    else this.denied.delete(this.canonical(resource));
  }

  /** Does `member` hold `role` directly on `resource` at `at`, with the `request.time` conditions evaluated? */
  holds(resource: string, member: string, role: string, at: Date): boolean {
    return this.store.holds(this.canonical(resource), member, role, at);
  }

  /** The stored policy as it is, conditions and all (no version downgrade). */
  policy(resource: string): (Omit<StoredPolicy, 'etag'> & { etag: string }) | undefined {
    const p = this.store.raw(this.canonical(resource));
    return p && { ...p, etag: p.etag.toString('base64') };
  }

  /** Another client (a console user, Terraform) changes the policy: a normal write with a new etag. */
  writeAsAnotherClient(resource: string, change: (policy: { bindings: Binding[]; auditConfigs: AuditConfig[] }) => void): void {
    this.store.mutate(this.canonical(resource), change);
  }

  /** Runs `hook` once, just before the next `setIamPolicy` is processed (after the caller has read). */
  beforeNextWrite(hook: (resource: string) => void): void {
    this.beforeWrite.push(hook);
  }

  inject(plan: FaultPlan): void {
    this.faults.apply(plan);
  }

  stats(resource?: string): SimulatorStats {
    if (resource) return { ...(this.counters.get(resource) ?? { getIamPolicy: 0, setIamPolicy: 0, aborted: 0 }) };
    const total = { getIamPolicy: 0, setIamPolicy: 0, aborted: 0 };
    for (const c of this.counters.values()) {
      total.getIamPolicy += c.getIamPolicy;
      total.setIamPolicy += c.setIamPolicy;
      total.aborted += c.aborted;
    }
    return total;
  }

  /** Recorded HTTP exchanges, oldest first, for wire-format checks. */
  traffic(): readonly TrafficEntry[] {
    return this.recorded.entries;
  }

  resetTraffic(): void {
    this.recorded.clear();
  }

  private createResource(resource: string, policy?: PolicySeed): string {
    if (this.store.has(resource)) throw new Error(`${resource} already exists`);
    this.store.create(resource, policy);
    return resource;
  }

  private count(resource: string, field: keyof SimulatorStats): void {
    const c = this.counters.get(resource) ?? { getIamPolicy: 0, setIamPolicy: 0, aborted: 0 };
    c[field] += 1;
    this.counters.set(resource, c);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (CLOUD_IDENTITY_PATH.test(url.pathname)) return this.handleCloudIdentity(req, res, url, raw);
    const match = ROUTE.exec(url.pathname);
    const getProject = GET_PROJECT.exec(url.pathname);
    const search = SEARCH_ROUTE.exec(url.pathname);
    const insights = INSIGHTS_ROUTE.exec(url.pathname);
    const entry: TrafficEntry = {
      rpc: match?.[4] ?? (getProject ? 'getProject' : search ? `${search[1]}.search` : insights ? 'insights.list' : null),
      resource: match?.[1] ?? getProject?.[1] ?? insights?.[1] ?? null,
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      requestBody: raw,
      status: 0,
      responseBody: undefined,
    };
    let status = 200;
    let body: unknown;
    try {
      await this.faults.delay();
      const listing = req.method === 'GET' && (search || insights);
      body = listing
        ? this.answerListing(req, url, raw, search, insights)
        : getProject && req.method === 'GET'
          ? this.answerGetProject(req, url, getProject[1], raw)
          : this.answer(req, url, match, raw, entry);
    } catch (e) {
      const error = e instanceof GoogleApiError ? e : new GoogleApiError('INTERNAL', 'Internal error encountered.');
      if (error.status === 'ABORTED' && entry.resource) this.count(entry.resource, 'aborted');
      status = error.httpStatus;
      body = error.toJSON();
    }
    entry.status = status;
    entry.responseBody = body;
    this.recorded.record(entry);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  }

  /** `projects/<number>` and `projects/<id>` are one project; policies are kept under the id. */
  private canonical(resource: string): string {
    const number = /^projects\/(\d+)$/.exec(resource)?.[1];
    const record = number ? this.projectsByNumber.get(number) : undefined;
    return record ? `projects/${record.id}` : resource;
  }

  private authenticate(req: IncomingMessage): void {
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!auth || (this.token !== undefined && auth[1] !== this.token)) {
      throw new GoogleApiError(
        'UNAUTHENTICATED',
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
  }

  /**
   * projects.get. As GCP does, a project that does not exist and one the caller may not read
   * get the same 403, so the answer does not tell which.
   */
  private answerGetProject(req: IncomingMessage, url: URL, name: string, raw: string): unknown {
    this.authenticate(req);
    const fault = this.faults.next();
    if (fault) throw fault;
    if (raw !== '') throw GoogleApiError.invalid('A GET request must not have a body.');
    const resource = this.canonical(name);
    const record = this.projects.get(resource.slice('projects/'.length));
    if (!record || this.denied.has(resource)) {
      throw new GoogleApiError(
        'PERMISSION_DENIED',
        `Permission 'resourcemanager.projects.get' denied on resource '//cloudresourcemanager.googleapis.com/${name}' (or it may not exist).`,
      );
    }
    const numericEnums = /enum-encoding=int/.test(url.searchParams.get('$alt') ?? '');
    return {
      name: `projects/${record.number}`,
      projectId: record.id,
      // google.cloud.resourcemanager.v3.Project.State: 1 = ACTIVE.
      state: numericEnums ? 1 : 'ACTIVE',
      displayName: record.id.slice(0, 30),
      createTime: record.createTime,
      updateTime: record.createTime,
      etag: `W/"${Buffer.from(record.number).toString('hex')}"`,
    };
  }

  /** Cloud Identity groups v1: the same bearer token, fault plan, envelope and traffic log as Resource Manager. */
  private async handleCloudIdentity(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Promise<void> {
    const method = req.method ?? '';
    const rpc = this.groupRoutes.route(method, url.pathname)?.route.rpc ?? null;
    let status = 200;
    let body: unknown;
    try {
      await this.faults.delay();
      this.authenticate(req);
      const fault = this.faults.next();
      if (fault) throw fault;
      body = this.groupRoutes.answer(method, url, raw).body;
    } catch (e) {
      const error = e instanceof GoogleApiError ? e : new GoogleApiError('INTERNAL', 'Internal error encountered.');
      status = error.httpStatus;
      body = error.toJSON();
    }
    let requestBody: unknown = raw;
    try {
      requestBody = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // kept as text
    }
    const { authorization, 'content-type': contentType } = req.headers;
    this.recorded.record({ rpc, resource: null, method, path: url.pathname, query: url.search, authorization, contentType, requestBody, status, responseBody: body });
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  }

  /** The discovery calls: Resource Manager search and Recommender insights (GET, no body). */
  private answerListing(req: IncomingMessage, url: URL, raw: string, search: RegExpExecArray | null, insights: RegExpExecArray | null): unknown {
    this.authenticate(req);
    const fault = this.faults.next();
    if (fault) throw fault;
    if (raw !== '') throw GoogleApiError.invalid('A GET request must not have a body.');
    const numericEnums = /enum-encoding=int/.test(url.searchParams.get('$alt') ?? '');
    if (search) return this.directory.search(search[1] as SearchKind, url, (r) => !this.denied.has(r), numericEnums);
    const policyResource = this.canonical(insights![1]);
    const number = policyResource.startsWith('projects/') ? this.projects.get(policyResource.slice('projects/'.length))?.number : undefined;
    const target = {
      policyResource,
      apiName: number ? `projects/${number}` : policyResource,
      exists: this.store.has(policyResource),
      allowed: !this.denied.has(policyResource),
    };
    return this.insights.list(url, insights!, target, numericEnums);
  }

  private answer(req: IncomingMessage, url: URL, match: RegExpExecArray | null, raw: string, entry: TrafficEntry): unknown {
    if (!match || req.method !== 'POST') throw new GoogleApiError('NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
    this.authenticate(req);
    const fault = this.faults.next();
    if (fault) throw fault;
    let json: unknown;
    try {
      json = raw === '' ? {} : JSON.parse(raw);
    } catch {
      throw GoogleApiError.invalid('Invalid JSON payload received. Unexpected token.');
    }
    entry.requestBody = json;
    const resource = this.canonical(match[1]);
    if (this.denied.has(resource)) throw new GoogleApiError('PERMISSION_DENIED', 'The caller does not have permission');
    // `$alt=json;enum-encoding=int` (sent by the client libraries) asks for enums as numbers.
    const numericEnums = /enum-encoding=int/.test(url.searchParams.get('$alt') ?? '');
    switch (match[4]) {
      case 'getIamPolicy': {
        const { requestedPolicyVersion } = parseGetIamPolicyRequest(json);
        const view = this.store.get(resource, requestedPolicyVersion, numericEnums);
        this.count(resource, 'getIamPolicy');
        return view;
      }
      case 'setIamPolicy': {
        const { policy, updateMask } = parseSetIamPolicyRequest(json);
        if (!policy) throw GoogleApiError.invalid("Invalid argument: 'policy' is required.");
        if (!this.store.has(resource)) throw new GoogleApiError('PERMISSION_DENIED', 'The caller does not have permission');
        this.beforeWrite.shift()?.(resource);
        if (this.faults.takeConflict()) this.store.mutate(resource, () => undefined);
        const view = this.store.set(resource, policy, updateMask, numericEnums);
        this.count(resource, 'setIamPolicy');
        return view;
      }
      default: {
        const { permissions } = parseTestIamPermissionsRequest(json);
        if (!this.store.has(resource)) throw new GoogleApiError('PERMISSION_DENIED', 'The caller does not have permission');
        // The broker's own identity is taken to hold every permission where it is not denied.
        return permissions.length > 0 ? { permissions } : {};
      }
    }
  }
}
