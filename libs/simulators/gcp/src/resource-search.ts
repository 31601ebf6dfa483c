import { GoogleApiError } from './google-api.error';
import { ListRequest, QueryTerm, matchesQuery, matchesValue, pageOf, parseQuery, readListRequest } from './list-request';

/**
 * Resource Manager v3 `projects.search`, `folders.search` and `organizations.search` over the
 * simulator's resources (GET `v3/{projects|folders|organizations}:search`, discovery document
 * specs/gcp/cloudresourcemanager/v3). Each answers only what the caller may get
 * (`resourcemanager.{projects,folders,organizations}.get`: here, resources not denied).
 */

export const LIFECYCLE_STATES = ['STATE_UNSPECIFIED', 'ACTIVE', 'DELETE_REQUESTED'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** What seeding may say about a resource besides its policy. */
export interface ResourceMetaSeed {
  /** `organizations/<n>` or `folders/<n>` (required by GCP for folders; optional for projects). */
  parent?: string;
  displayName?: string;
  state?: 'ACTIVE' | 'DELETE_REQUESTED';
  /** Projects only. */
  labels?: Record<string, string>;
  /** Organizations only: the Workspace customer id. */
  directoryCustomerId?: string;
}

export interface ResourceMeta extends ResourceMetaSeed {
  /** The resource as the API names it: `projects/<number>`, `folders/<n>`, `organizations/<n>`. */
  name: string;
  /** Where its policy lives in the simulator (`projects/<id>` for a project). */
  policyResource: string;
  projectId?: string;
  createTime: string;
}

export type SearchKind = 'projects' | 'folders' | 'organizations';
export const SEARCH_ROUTE = /^\/v3\/(projects|folders|organizations):search$/;

/** Page sizes: unspecified lets the server pick (the simulator, 100); larger requests are capped. */
const PAGE_SIZES = { default: 100, max: 500 };

const FIELDS: Record<SearchKind, Record<string, (m: ResourceMeta, value: string) => boolean>> = {
  projects: {
    displayName: (m, v) => matchesValue(m.displayName, v),
    name: (m, v) => matchesValue(m.displayName, v),
    parent: (m, v) => matchesValue(m.parent, v),
    'parent.type': (m, v) => matchesValue(m.parent?.startsWith('folders/') ? 'folder' : m.parent ? 'organization' : undefined, v),
    'parent.id': (m, v) => matchesValue(m.parent?.split('/')[1], v),
    id: (m, v) => matchesValue(m.projectId, v),
    projectId: (m, v) => matchesValue(m.projectId, v),
    state: (m, v) => matchesValue(m.state, v),
    lifecycleState: (m, v) => matchesValue(m.state, v),
  },
  folders: {
    displayName: (m, v) => matchesValue(m.displayName, v),
    parent: (m, v) => matchesValue(m.parent, v),
    state: (m, v) => matchesValue(m.state, v),
    lifecycleState: (m, v) => matchesValue(m.state, v),
  },
  organizations: {
    directoryCustomerId: (m, v) => matchesValue(m.directoryCustomerId, v),
    'owner.directoryCustomerId': (m, v) => matchesValue(m.directoryCustomerId, v),
    domain: (m, v) => matchesValue(m.displayName, v),
  },
};

function termMatcher(kind: SearchKind) {
  return (meta: ResourceMeta, term: QueryTerm): boolean => {
    if (kind === 'projects' && term.field.startsWith('labels.')) {
      const label = meta.labels?.[term.field.slice('labels.'.length)];
      return term.value === '*' ? label !== undefined : matchesValue(label, term.value);
    }
    const read = Object.entries(FIELDS[kind]).find(([f]) => f.toLowerCase() === term.field.toLowerCase())?.[1];
    if (!read) throw GoogleApiError.invalid(`Invalid query: "${term.field}" is not a field ${kind}.search filters by.`);
    return read(meta, term.value);
  };
}

/** The resources' metadata and the three search methods. */
export class ResourceDirectory {
  private readonly resources = new Map<string, ResourceMeta>();

  add(meta: ResourceMeta): void {
    if (meta.parent !== undefined && !/^(folders|organizations)\/\d+$/.test(meta.parent)) {
      throw new Error(`${meta.name}: parent must be folders/<number> or organizations/<number>, got ${meta.parent}`);
    }
    if (meta.policyResource.startsWith('folders/') && meta.parent === undefined) throw new Error(`${meta.name}: a folder needs a parent`);
    this.resources.set(meta.policyResource, { ...meta, state: meta.state ?? 'ACTIVE' });
  }

  get(policyResource: string): ResourceMeta | undefined {
    return this.resources.get(policyResource);
  }

  setState(policyResource: string, state: 'ACTIVE' | 'DELETE_REQUESTED'): void {
    const meta = this.resources.get(policyResource);
    if (!meta) throw new Error(`no resource ${policyResource}`);
    meta.state = state;
  }

  /** `visible(policyResource)`: whether the caller holds the type's `.get` permission there. */
  search(kind: SearchKind, url: URL, visible: (policyResource: string) => boolean, numericEnums: boolean): unknown {
    const request: ListRequest = readListRequest(url, ['query'], PAGE_SIZES);
    const groups = parseQuery(request.params.query ?? '', kind === 'projects' ? 'OR' : 'AND', 'query');
    const match = termMatcher(kind);
    const found = [...this.resources.values()].filter(
      (m) => m.policyResource.startsWith(`${kind}/`) && visible(m.policyResource) && matchesQuery(groups, m, match),
    );
    const { page, nextPageToken } = pageOf(found, (m) => m.name, request);
    return { ...(page.length > 0 && { [kind]: page.map((m) => this.render(m, numericEnums)) }), ...(nextPageToken && { nextPageToken }) };
  }

  /** A Project, Folder or Organization message in proto3 JSON (fields of the discovery document). */
  private render(m: ResourceMeta, numericEnums: boolean): Record<string, unknown> {
    const state = m.state ?? 'ACTIVE';
    const etag = `W/"${Buffer.from(m.name).toString('hex').slice(-16)}"`;
    const common = {
      name: m.name,
      state: numericEnums ? LIFECYCLE_STATES.indexOf(state) : state,
      createTime: m.createTime,
      ...(state === 'DELETE_REQUESTED' && { deleteTime: m.createTime }),
      etag,
    };
    if (m.policyResource.startsWith('projects/')) {
      return {
        ...common,
        projectId: m.projectId,
        displayName: m.displayName ?? m.projectId,
        ...(m.parent && { parent: m.parent }),
        updateTime: m.createTime,
        ...(m.labels && Object.keys(m.labels).length > 0 && { labels: m.labels }),
      };
    }
    if (m.policyResource.startsWith('folders/')) return { ...common, displayName: m.displayName ?? m.name, parent: m.parent, updateTime: m.createTime };
    return { ...common, displayName: m.displayName ?? `org-${m.name.split('/')[1]}.example.com`, directoryCustomerId: m.directoryCustomerId ?? 'C0sim0001', updateTime: m.createTime };
  }
}
