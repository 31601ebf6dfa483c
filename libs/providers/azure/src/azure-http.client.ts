import { rootCertificates } from 'node:tls';
import { TokenCredential } from '@azure/identity';
import { HttpClient, createDefaultHttpClient, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { AuthenticationHandler, Client, Context, GraphError, Middleware } from '@microsoft/microsoft-graph-client';
import { SignalScope, retryAfterFromHeaders } from '@jit/resilience';
import { AzureHttpError } from './azure-http.error';

/** Token scopes of the public cloud; sovereign clouds use other audiences (see docs). */
const ARM_SCOPE = 'https://management.azure.com/.default';

export interface AzureHttpOptions {
  credential: TokenCredential;
  graphEndpoint: string;
  armEndpoint: string;
  extraCaCertsPem?: string[];
  /** The caller's signal, set by the provider's public methods; every request is sent with it. */
  scope?: SignalScope;
}

/** One HTTP call to Graph or ARM, without retries (the caller owns the retry budget). */
export class AzureHttpClient {
  private readonly graph: Client;
  private readonly http: HttpClient = createDefaultHttpClient();
  private readonly tls: { ca: string[] } | undefined;
  private readonly scope: SignalScope;

  constructor(private readonly options: AzureHttpOptions) {
    this.scope = options.scope ?? new SignalScope();
    this.tls = options.extraCaCertsPem?.length ? { ca: [...rootCertificates, ...options.extraCaCertsPem] } : undefined;
    const graphHost = new URL(options.graphEndpoint).hostname;
    // A custom chain: auth, then a transport that honours extraCaCertsPem. The default chain's
    // RetryHandler is left out so retries stay bounded by AzureRetryOptions.
    this.graph = Client.initWithMiddleware({
      baseUrl: options.graphEndpoint.replace(/\/$/, ''),
      defaultVersion: 'v1.0',
      customHosts: new Set([graphHost]),
      middleware: chain([
        new AuthenticationHandler({
          getAccessToken: async () => (await options.credential.getToken('https://graph.microsoft.com/.default'))?.token ?? '',
        }),
        new PipelineTransport(this.http, this.tls, this.scope),
      ]),
    });
  }

  /** `path` is relative to `/v1.0` or an absolute `@odata.nextLink`. */
  async graphCall<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    try {
      const request = this.graph.api(path);
      switch (method) {
        case 'GET':
          return (await request.get()) as T;
        case 'POST':
          return (await request.post(body)) as T;
        case 'PATCH':
          return (await request.patch(body)) as T;
        case 'DELETE':
          return (await request.delete()) as T;
      }
    } catch (e) {
      if (this.scope.current?.aborted) throw e;
      throw toGraphHttpError(e);
    }
  }

  /** `pathAndQuery` starts with `/` and carries `api-version`. Returns undefined for 204. */
  async armCall<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', pathAndQuery: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${this.options.armEndpoint.replace(/\/$/, '')}${pathAndQuery}`;
    let token: string;
    try {
      token = (await this.options.credential.getToken(ARM_SCOPE))?.token ?? '';
    } catch (e) {
      throw new AzureHttpError('arm', 401, 'CredentialUnavailable', `could not get an ARM token: ${(e as Error).message}`);
    }
    const headers = createHttpHeaders({ authorization: `Bearer ${token}`, accept: 'application/json' });
    if (body !== undefined) headers.set('content-type', 'application/json');
    const request = createPipelineRequest({ url, method, headers, body: body === undefined ? undefined : JSON.stringify(body), abortSignal: this.scope.current });
    // Set after creation: createPipelineRequest does not copy tlsSettings from its options.
    request.tlsSettings = this.tls;
    let response;
    try {
      response = await this.http.sendRequest(request);
    } catch (e) {
      if (this.scope.current?.aborted) throw e;
      throw networkError('arm', e);
    }
    const text = response.bodyAsText ?? '';
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new AzureHttpError('arm', response.status, error?.code ?? `Http${response.status}`, error?.message ?? text.slice(0, 300), retryAfterFromHeaders((n) => response.headers.get(n)));
    }
    return { status: response.status, body: parsed as T };
  }
}

function toGraphHttpError(e: unknown): AzureHttpError {
  if (e instanceof GraphError && e.statusCode > 0) {
    return new AzureHttpError('graph', e.statusCode, e.code ?? `Http${e.statusCode}`, e.message, e.headers ? retryAfterFromHeaders((n) => e.headers!.get(n)) : undefined);
  }
  return networkError('graph', e);
}

/** A certificate the adapter does not trust is a configuration error, not worth retrying. */
function networkError(api: 'graph' | 'arm', e: unknown): AzureHttpError {
  const message = (e as Error)?.message ?? String(e);
  const tls = /certificate|self[- ]signed|CERT_|unable to verify/i.test(message);
  return new AzureHttpError(api, tls ? -1 : 0, tls ? 'TlsVerificationFailed' : 'NetworkError', `${api === 'graph' ? 'Graph' : 'ARM'} unreachable: ${message}`);
}

function chain(middleware: Middleware[]): Middleware[] {
  for (let i = 0; i < middleware.length - 1; i++) middleware[i].setNext?.(middleware[i + 1]);
  return middleware;
}

/** The Graph client's last middleware, sending through core-rest-pipeline so TLS trust is per client. */
class PipelineTransport implements Middleware {
  constructor(
    private readonly http: HttpClient,
    private readonly tls: { ca: string[] } | undefined,
    private readonly scope: SignalScope,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : (context.request as Request).url;
    const options = context.options ?? {};
    const headers = createHttpHeaders();
    const given = options.headers as unknown;
    if (given instanceof Headers) given.forEach((v, k) => headers.set(k, v));
    else if (given && typeof given === 'object') for (const [k, v] of Object.entries(given as Record<string, string>)) headers.set(k, v);
    const request = createPipelineRequest({
      url,
      method: (options.method ?? 'GET') as 'GET',
      headers,
      body: typeof options.body === 'string' ? options.body : undefined,
      abortSignal: this.scope.current,
    });
    request.tlsSettings = this.tls;
    const response = await this.http.sendRequest(request);
    const out = new Headers();
    for (const [k, v] of response.headers) out.set(k, v);
    const nullBody = response.status === 204 || response.status === 304;
    context.response = new Response(nullBody ? null : (response.bodyAsText ?? ''), { status: response.status, headers: out });
  }
}
