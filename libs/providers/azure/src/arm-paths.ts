/** api-versions the adapter speaks (the stable ones in azure-rest-api-specs). */
export const PIM_API_VERSION = '2020-10-01';
export const ROLE_ASSIGNMENTS_API_VERSION = '2022-04-01';

const AUTHZ = '/providers/Microsoft.Authorization';

export function armUrl(scope: string, collection: string, name?: string, suffix = '', query: Record<string, string> = {}): string {
  // PIM's collections (schedules, instances, requests; assignment and eligibility) are 2020-10-01; role assignments and definitions 2022-04-01.
  const apiVersion = /^role(Assignment|Eligibility)Schedule/.test(collection) ? PIM_API_VERSION : ROLE_ASSIGNMENTS_API_VERSION;
  const q = new URLSearchParams({ 'api-version': apiVersion, ...query });
  const encodedScope = scope.replace(/\/$/, '').split('/').map(encodeURIComponent).join('/');
  return `${encodedScope}${AUTHZ}/${collection}${name ? `/${encodeURIComponent(name)}` : ''}${suffix}?${q.toString().replace(/\+/g, '%20')}`;
}

export interface ArmList<T> {
  value: T[];
  nextLink?: string;
}
