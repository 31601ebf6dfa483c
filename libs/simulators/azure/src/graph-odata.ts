import { SimContext } from './sim-context';
import { SimHttpError, SimRequest, SimResponse, asText, parseEqFilter } from './sim-http';

/** Page size of simulated collections; small so that clients must follow `@odata.nextLink`. */
export const GRAPH_PAGE_SIZE = 50;

export function graphNotFound(id: string): SimHttpError {
  return new SimHttpError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

/** `$filter` with `eq` clauses on top-level properties (the subset the broker uses). */
export function matchesFilter(req: SimRequest): (item: Record<string, unknown>) => boolean {
  const { eq } = parseEqFilter(req.query.get('$filter'));
  return (item) => Object.entries(eq).every(([k, v]) => asText(item[k]).toLowerCase() === v.toLowerCase());
}

/** A collection response with `$skiptoken` paging. */
export function graphList(req: SimRequest, ctx: SimContext, base: string, items: Record<string, unknown>[]): SimResponse {
  const skip = Number(req.query.get('$skiptoken') ?? 0);
  const top = Math.min(Number(req.query.get('$top') ?? GRAPH_PAGE_SIZE), GRAPH_PAGE_SIZE);
  const page = items.slice(skip, skip + top);
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#${base.replace('/v1.0/', '')}`, value: page };
  // Graph keeps paging with $top: it sizes the pages, it does not cut the collection.
  if (skip + top < items.length) {
    const next = new URLSearchParams(req.query);
    next.set('$skiptoken', String(skip + top));
    body['@odata.nextLink'] = `${ctx.baseUrl}${base}?${next.toString()}`;
  }
  return { status: 200, body };
}
