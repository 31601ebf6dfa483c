import { randomUUID } from 'node:crypto';
import { AwsSimError } from './aws-sim.error';

export const IAM_VERSION = '2010-05-08';
export const STS_VERSION = '2011-06-15';
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** A decoded awsQuery request: `Action`, `Version` and the flattened members (`Tags.member.1.Key`). */
export interface QueryRequest {
  action: string;
  version: string;
  params: Record<string, string>;
}

export function parseQueryBody(body: string): QueryRequest {
  const form = new URLSearchParams(body);
  const params: Record<string, string> = {};
  for (const [key, value] of form) {
    if (key !== 'Action' && key !== 'Version') params[key] = value;
  }
  return { action: form.get('Action') ?? '', version: form.get('Version') ?? '', params };
}

/** XML text content; the SDK's parser decodes the five predefined entities. */
export function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A result member tree: strings become elements, arrays become `<member>` lists, objects nest. */
export type XmlValue = string | number | boolean | XmlValue[] | { [name: string]: XmlValue | undefined };

export function renderXml(value: XmlValue): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${renderXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${renderXml(v as XmlValue)}</${k}>`)
      .join('');
  }
  return xmlEscape(String(value));
}

/** `<{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata>…` as awsQuery clients expect. */
export function renderSuccess(namespace: string, action: string, result: XmlValue | undefined, requestId: string): string {
  const body = result === undefined ? '' : `<${action}Result>${renderXml(result)}</${action}Result>`;
  return (
    `<${action}Response xmlns="${namespace}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function renderError(namespace: string, error: AwsSimError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code>` +
    `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

export function newRequestId(): string {
  return randomUUID();
}
