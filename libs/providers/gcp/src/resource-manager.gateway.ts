import type { protos } from '@google-cloud/resource-manager';
// The three clients' own modules, not the package's index: that one also loads the four Tag*
// clients and the 2.8 MB static protobuf module (protos.js) that this gateway uses for types
// only, 7 MiB of the broker's idle RSS and a sixth of the SDK's load time (issue 13 point 1).
// The package (pinned) has no exports map, so these paths are its files as published.
import { FoldersClient } from '@google-cloud/resource-manager/build/src/v3/folders_client';
import { OrganizationsClient } from '@google-cloud/resource-manager/build/src/v3/organizations_client';
import { ProjectsClient } from '@google-cloud/resource-manager/build/src/v3/projects_client';
import { withTimeout } from '@jit/resilience';
import { GcpProviderOptions } from './gcp-provider.options';
import { staticTokenClient } from './static-token.auth';

export type IamPolicy = protos.google.iam.v1.IPolicy;
export type IamBinding = protos.google.iam.v1.IBinding;

/** The gax client options (google-gax's `ClientOptions`, as the generated clients take them). */
export type GoogleClientOptions = NonNullable<ConstructorParameters<typeof ProjectsClient>[0]>;

export type SearchKind = 'projects' | 'folders' | 'organizations';

/** A project, folder or organization as search lists it (discovery, issue 16). */
export interface FoundResource {
  /** `projects/<id>` for a project (the name the broker's targets and rules use), else `folders/<n>`, `organizations/<n>`. */
  resource: string;
  active: boolean;
  displayName?: string;
  parent?: string;
}

export interface SearchPage {
  found: FoundResource[];
  nextPageToken: string | null;
}

/**
 * The options every Google client of the adapter is built with: REST ("fallback") everywhere, the
 * wire format the tests check against the discovery documents, no native gRPC, and one code
 * path for Google and the simulator.
 */
export function googleClientOptions(options: GcpProviderOptions): GoogleClientOptions {
  const { endpoint, accessToken } = options;
  const authClient = options.authClient ?? (accessToken === undefined ? undefined : staticTokenClient(accessToken));
  return {
    fallback: true,
    ...(authClient && { authClient }),
    ...(endpoint && { apiEndpoint: endpoint.host, port: endpoint.port, protocol: endpoint.protocol }),
  };
}

/**
 * gax's REST transport ignores the call timeout, so the deadline is enforced here: at
 * `timeoutMs`, or when the caller's `signal` is aborted, the call is cancelled (gax's
 * `cancel()` aborts the HTTP request). A write that times out may still land; the retry
 * re-reads and finds it, so nothing is applied twice.
 */
export async function withDeadline<T>(timeoutMs: number, start: () => Promise<T> & { cancel?: () => void }, signal?: AbortSignal): Promise<T> {
  signal?.throwIfAborted();
  let settled = false;
  return withTimeout(
    timeoutMs,
    (aborted) => {
      const call = start();
      aborted.addEventListener('abort', () => settled || call.cancel?.(), { once: true });
      return call.finally(() => (settled = true));
    },
    () => new GatewayError('transient', 'DEADLINE_EXCEEDED', `no answer within ${timeoutMs} ms`),
    signal,
  );
}

/** google.cloud.resourcemanager.v3 State: 1 = ACTIVE (the REST transport may hand back the name or the number). */
const isActive = (state: unknown): boolean => state === 'ACTIVE' || state === 1;

type GatewayErrorKind = 'conflict' | 'transient' | 'terminal' | 'invalid';

/** A failed Resource Manager call, classified for the retry loop. */
export class GatewayError extends Error {
  constructor(
    readonly kind: GatewayErrorKind,
    readonly code: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** google.rpc.Code numbers, names and what the retry loop does with them. */
const RPC: Array<[number, string, GatewayErrorKind]> = [
  [2, 'UNKNOWN', 'transient'],
  [3, 'INVALID_ARGUMENT', 'invalid'],
  [4, 'DEADLINE_EXCEEDED', 'transient'],
  [5, 'NOT_FOUND', 'terminal'],
  [7, 'PERMISSION_DENIED', 'terminal'],
  [8, 'RESOURCE_EXHAUSTED', 'transient'],
  // 412 arrives as FAILED_PRECONDITION; GoogleCloudPlatform/jit-access retries it as a concurrent change.
  [9, 'FAILED_PRECONDITION', 'conflict'],
  [10, 'ABORTED', 'conflict'],
  [11, 'OUT_OF_RANGE', 'invalid'],
  [12, 'UNIMPLEMENTED', 'terminal'],
  [13, 'INTERNAL', 'transient'],
  [14, 'UNAVAILABLE', 'transient'],
  [16, 'UNAUTHENTICATED', 'terminal'],
];

function httpKind(status: number): [string, GatewayErrorKind] {
  if (status === 409 || status === 412) return [`HTTP_${status}`, 'conflict'];
  if (status === 429 || status >= 500) return [`HTTP_${status}`, 'transient'];
  if (status === 401 || status === 403 || status === 404) return [`HTTP_${status}`, 'terminal'];
  return [`HTTP_${status}`, 'invalid'];
}

function googleEnvelope(text: unknown): { status?: string; message?: string } | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return (JSON.parse(text) as { error?: { status?: string; message?: string } }).error;
  } catch {
    return undefined;
  }
}

/**
 * Classifies a client-library failure. With `fallback: true`, gax 5 reports a non-2xx answer
 * either as a GoogleError (numeric rpc `code`) or as the transport's GaxiosError (HTTP `status`,
 * the Google error envelope as the message), so both are read.
 */
export function classifyGoogleError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const e = error as { code?: unknown; status?: unknown; message?: unknown; response?: { status?: unknown; data?: unknown } };
  const envelope = googleEnvelope(e?.message) ?? googleEnvelope(e?.response?.data);
  const message = envelope?.message ?? (error instanceof Error ? error.message : String(error));
  const byName = envelope?.status && RPC.find(([, name]) => name === envelope.status);
  if (byName) return new GatewayError(byName[2], byName[1], message, error);
  const httpStatus = typeof e?.status === 'number' ? e.status : typeof e?.response?.status === 'number' ? e.response.status : undefined;
  if (httpStatus !== undefined) {
    const [code, kind] = httpKind(httpStatus);
    return new GatewayError(kind, code, message, error);
  }
  const byCode = typeof e?.code === 'number' ? RPC.find(([n]) => n === e.code) : undefined;
  if (byCode) return new GatewayError(byCode[2], byCode[1], message, error);
  // No answer at all: connection refused or reset, or the call's deadline passed.
  return new GatewayError('transient', typeof e?.code === 'string' ? e.code : 'NETWORK', message, error);
}

/** The three Resource Manager v3 clients, each picked by the resource name's prefix. */
export class ResourceManagerGateway {
  private readonly projects: ProjectsClient;
  private readonly folders: FoldersClient;
  private readonly organizations: OrganizationsClient;
  // The retry loop is ours (conflict-aware, bounded, jittered): gax's own retries are switched off.
  private readonly callOptions: { retry: null };
  private readonly timeoutMs: number;

  constructor(options: GcpProviderOptions) {
    const clientOptions = googleClientOptions(options);
    this.projects = new ProjectsClient(clientOptions);
    this.folders = new FoldersClient(clientOptions);
    this.organizations = new OrganizationsClient(clientOptions);
    this.callOptions = { retry: null };
    this.timeoutMs = options.callTimeoutMs ?? 30_000;
  }

  async getPolicy(resource: string, signal?: AbortSignal): Promise<IamPolicy> {
    const request = { resource, options: { requestedPolicyVersion: 3 } };
    try {
      const [policy] = await this.deadline(() => this.client(resource).getIamPolicy(request, this.callOptions), signal);
      return policy;
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  /** Writes the whole policy; `policy.etag` must be the one read, so a concurrent change is refused. */
  async setPolicy(resource: string, policy: IamPolicy): Promise<IamPolicy> {
    const request = { resource, policy, updateMask: { paths: ['bindings', 'etag'] } };
    try {
      const [written] = await this.deadline(() => this.client(resource).setIamPolicy(request, this.callOptions));
      return written;
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  /** The project id of `projects/<number>` (projects.get); a project's number and id never change. */
  async projectId(name: string, signal?: AbortSignal): Promise<string> {
    try {
      const [project] = await this.deadline(() => this.projects.getProject({ name }, this.callOptions), signal);
      if (!project.projectId) throw new GatewayError('terminal', 'NO_PROJECT_ID', `${name} came back without a project id`);
      return project.projectId;
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  /**
   * One page of `projects.search`, `folders.search` or `organizations.search`: what the caller
   * may get (`resourcemanager.<type>.get`), filtered by `query` (Resource Manager's syntax).
   */
  async search(kind: SearchKind, query: string | undefined, pageToken: string | undefined, pageSize: number, signal?: AbortSignal): Promise<SearchPage> {
    const request = { ...(query && { query }), ...(pageToken && { pageToken }), pageSize };
    const options = { ...this.callOptions, autoPaginate: false };
    try {
      switch (kind) {
        case 'projects': {
          const [projects, , response] = await this.deadline(() => this.projects.searchProjects(request, options), signal);
          const found = projects.map((p) => ({ resource: `projects/${p.projectId}`, active: isActive(p.state), displayName: p.displayName ?? undefined, parent: p.parent ?? undefined }));
          return { found, nextPageToken: response?.nextPageToken || null };
        }
        case 'folders': {
          const [folders, , response] = await this.deadline(() => this.folders.searchFolders(request, options), signal);
          const found = folders.map((f) => ({ resource: f.name ?? '', active: isActive(f.state), displayName: f.displayName ?? undefined, parent: f.parent ?? undefined }));
          return { found, nextPageToken: response?.nextPageToken || null };
        }
        case 'organizations': {
          const [organizations, , response] = await this.deadline(() => this.organizations.searchOrganizations(request, options), signal);
          const found = organizations.map((o) => ({ resource: o.name ?? '', active: isActive(o.state), displayName: o.displayName ?? undefined }));
          return { found, nextPageToken: response?.nextPageToken || null };
        }
      }
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  async testPermissions(resource: string, permissions: string[], signal?: AbortSignal): Promise<string[]> {
    try {
      const [answer] = await this.deadline(() => this.client(resource).testIamPermissions({ resource, permissions }, this.callOptions), signal);
      return answer.permissions ?? [];
    } catch (e) {
      throw classifyGoogleError(e);
    }
  }

  /** Obtains an access token: proves the credentials work without touching any policy. */
  async checkCredentials(): Promise<void> {
    try {
      await this.projects.auth.getAccessToken();
    } catch (e) {
      throw new GatewayError('terminal', 'UNAUTHENTICATED', `no usable GCP credentials: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.projects.close(), this.folders.close(), this.organizations.close()]);
  }

  /** Each call within `callTimeoutMs` and the caller's `signal` (withDeadline). */
  private deadline<T>(start: () => Promise<T> & { cancel?: () => void }, signal?: AbortSignal): Promise<T> {
    return withDeadline(this.timeoutMs, start, signal);
  }

  private client(resource: string): ProjectsClient | FoldersClient | OrganizationsClient {
    if (resource.startsWith('projects/')) return this.projects;
    if (resource.startsWith('folders/')) return this.folders;
    if (resource.startsWith('organizations/')) return this.organizations;
    throw new GatewayError('invalid', 'INVALID_RESOURCE', `${resource} is not a project, folder or organization`);
  }
}
