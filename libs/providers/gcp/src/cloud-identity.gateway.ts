// Types only here: the client (the v1 module alone, not the package's index, which also loads
// v1beta1; the package has no exports map) is loaded on the first gcp.group-membership call, so a
// broker that never grants one does not pay its 0.3 s and 5 MiB at start (issue 13 point 1).
import type { cloudidentity_v1 } from '@googleapis/cloudidentity/build/v1';
import { AuthClient, GoogleAuth } from 'google-auth-library';
import { withTimeout } from '@jit/resilience';
import { GcpProviderOptions } from './gcp-provider.options';
import { GatewayError, classifyGoogleError } from './resource-manager.gateway';
import { staticTokenClient } from './static-token.auth';

/** The one OAuth scope the broker asks for on Cloud Identity: read and change group memberships. */
export const CLOUD_IDENTITY_GROUPS_SCOPE = 'https://www.googleapis.com/auth/cloud-identity.groups';
const GOOGLE_ROOT_URL = 'https://cloudidentity.googleapis.com/';

export type Membership = cloudidentity_v1.Schema$Membership;
export type MembershipRole = cloudidentity_v1.Schema$MembershipRole;

/** Memberships per page of memberships.list: the most `View.FULL` allows (the discovery document: 500). */
const LIST_PAGE_SIZE = 500;

/**
 * Classifies a generated client's failure. Its transport (gaxios) hands back the Google error
 * envelope as parsed JSON in `response.data`, which the Resource Manager classifier reads as text.
 */
function classify(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const response = (error as { response?: { status?: unknown; data?: unknown } })?.response;
  if (response && typeof response.data === 'object' && response.data !== null) {
    const g = classifyGoogleError({ message: JSON.stringify(response.data), response: { status: response.status } });
    return new GatewayError(g.kind, g.code, g.message, error);
  }
  return classifyGoogleError(error);
}

/** A long-running operation as Cloud Identity v1 returns it from create and delete. */
function settled<T>(operation: cloudidentity_v1.Schema$Operation, what: string): T | undefined {
  if (operation.error) {
    const { code, message } = operation.error;
    const g = classifyGoogleError({ code, message: message ?? `${what} failed` });
    throw new GatewayError(g.kind, g.code, `${what}: ${message ?? 'the operation failed'}`, operation.error);
  }
  // Not done: Cloud Identity has no operations.get in v1, so the caller reads the membership back.
  return operation.done ? (operation.response as T | undefined) : undefined;
}

/**
 * The Cloud Identity Groups v1 calls the `gcp.group-membership` kind makes, on Google's generated
 * REST client (`@googleapis/cloudidentity`) with the adapter's credentials. Each call has the
 * adapter's deadline and no retry of its own: the caller's retry loop classifies and backs off.
 */
export class CloudIdentityGateway {
  private client?: Promise<cloudidentity_v1.Cloudidentity>;
  private readonly auth: AuthClient | GoogleAuth;
  private readonly rootUrl: string;
  private readonly timeoutMs: number;

  constructor(options: GcpProviderOptions) {
    const endpoint = options.cloudIdentityEndpoint ?? options.endpoint;
    this.auth =
      options.authClient ??
      (options.accessToken === undefined ? new GoogleAuth({ scopes: [CLOUD_IDENTITY_GROUPS_SCOPE] }) : staticTokenClient(options.accessToken));
    this.rootUrl = endpoint ? `${endpoint.protocol}://${endpoint.host}:${endpoint.port}/` : GOOGLE_ROOT_URL;
    this.timeoutMs = options.callTimeoutMs ?? 30_000;
  }

  /** The generated client, loaded and built once, on first use. */
  private api(): Promise<cloudidentity_v1.Cloudidentity> {
    this.client ??= import('@googleapis/cloudidentity/build/v1').then(
      ({ cloudidentity_v1: v1 }) => new v1.Cloudidentity({ auth: this.auth as cloudidentity_v1.Options['auth'], rootUrl: this.rootUrl }),
    );
    return this.client;
  }

  /**
   * `groups/<id>` of the group with this email, or null when Cloud Identity says there is none
   * (404). A 403 (`PERMISSION_DENIED`: a group the broker may not see, lost Manager rights, or one
   * that does not exist, Google does not say which) is thrown: a revoke or a reconciliation must
   * not take it for "gone"; the lookups before a request turn it into a 400 themselves.
   */
  async groupName(email: string, signal?: AbortSignal): Promise<string | null> {
    try {
      const { data } = await this.call((o, api) => api.groups.lookup({ 'groupKey.id': email }, o), signal);
      return data.name ?? null;
    } catch (e) {
      const error = classify(e);
      if (error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  /** `groups/<g>/memberships/<m>` of the member with this email in the group, or null. */
  async membershipName(group: string, memberEmail: string, signal?: AbortSignal): Promise<string | null> {
    try {
      const { data } = await this.call((o, api) => api.groups.memberships.lookup({ parent: group, 'memberKey.id': memberEmail }, o), signal);
      return data.name ?? null;
    } catch (e) {
      const error = classify(e);
      if (error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  /** The membership, or null when it is gone (deleted, or past its expiry). */
  async membership(name: string, signal?: AbortSignal): Promise<Membership | null> {
    try {
      const { data } = await this.call((o, api) => api.groups.memberships.get({ name }, o), signal);
      return data;
    } catch (e) {
      const error = classify(e);
      if (error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  /**
   * Adds the member with a `MEMBER` role that expires at `expireTime`. Returns the membership the
   * operation reports, or null when the operation is not done yet (the caller reads it back).
   * `ALREADY_EXISTS` comes back as a `conflict` GatewayError.
   */
  async createMembership(group: string, memberEmail: string, expireTime: Date, signal?: AbortSignal): Promise<Membership | null> {
    const requestBody: Membership = {
      preferredMemberKey: { id: memberEmail },
      roles: [{ name: 'MEMBER', expiryDetail: { expireTime: expireTime.toISOString() } }],
    };
    try {
      const { data } = await this.call((o, api) => api.groups.memberships.create({ parent: group, requestBody }, o), signal);
      return settled<Membership>(data, `adding ${memberEmail} to ${group}`) ?? null;
    } catch (e) {
      throw classify(e);
    }
  }

  /** Moves the `MEMBER` role's expiry (later or earlier) with modifyMembershipRoles. */
  async setExpiry(name: string, expireTime: Date, signal?: AbortSignal): Promise<Membership | null> {
    const requestBody: cloudidentity_v1.Schema$ModifyMembershipRolesRequest = {
      updateRolesParams: [{ fieldMask: 'expiryDetail.expireTime', membershipRole: { name: 'MEMBER', expiryDetail: { expireTime: expireTime.toISOString() } } }],
    };
    try {
      const { data } = await this.call((o, api) => api.groups.memberships.modifyMembershipRoles({ name, requestBody }, o), signal);
      return data.membership ?? null;
    } catch (e) {
      throw classify(e);
    }
  }

  /** Deletes the membership; a membership already gone is done. */
  async deleteMembership(name: string, signal?: AbortSignal): Promise<void> {
    try {
      const { data } = await this.call((o, api) => api.groups.memberships.delete({ name }, o), signal);
      settled(data, `removing ${name}`);
    } catch (e) {
      const error = classify(e);
      if (error.code === 'NOT_FOUND') return;
      throw error;
    }
  }

  /** Every membership of the group, page by page (`View.FULL`, so each carries its roles and their expiry). */
  async *memberships(group: string, signal?: AbortSignal, retry?: <T>(call: () => Promise<T>) => Promise<T>): AsyncIterable<Membership> {
    let pageToken: string | undefined;
    const once = <T>(call: () => Promise<T>) => (retry ? retry(call) : call());
    do {
      const token = pageToken;
      const page = await once(async () => {
        try {
          const { data } = await this.call(
            (o, api) => api.groups.memberships.list({ parent: group, view: 'FULL', pageSize: LIST_PAGE_SIZE, ...(token && { pageToken: token }) }, o),
            signal,
          );
          return data;
        } catch (e) {
          throw classify(e);
        }
      });
      yield* page.memberships ?? [];
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
  }

  /** Obtains an access token: proves the credentials work without reading any group. */
  async checkCredentials(): Promise<void> {
    try {
      await this.auth.getAccessToken();
    } catch (e) {
      throw new GatewayError('terminal', 'UNAUTHENTICATED', `no usable GCP credentials: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  /** The adapter's deadline and the caller's signal on one call; the client's own retries are off. */
  private call<T>(start: (options: { retry: false; signal: AbortSignal }, api: cloudidentity_v1.Cloudidentity) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    return withTimeout(
      this.timeoutMs,
      async (aborted) => start({ retry: false, signal: aborted }, await this.api()),
      () => new GatewayError('transient', 'DEADLINE_EXCEEDED', `no answer within ${this.timeoutMs} ms`),
      signal,
    );
  }
}
