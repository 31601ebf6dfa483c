/** google.rpc.Code names and the HTTP status Google's REST front end maps each one to. */
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type RpcStatus = keyof typeof HTTP_STATUS;

/** An error the simulator answers with, in Google's `{"error":{code,message,status}}` envelope. */
export class GoogleApiError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly status: RpcStatus,
    message: string,
    httpStatus?: number,
  ) {
    super(message);
    this.httpStatus = httpStatus ?? HTTP_STATUS[status];
  }

  toJSON(): { error: { code: number; message: string; status: RpcStatus } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }

  static invalid(message: string): GoogleApiError {
    return new GoogleApiError('INVALID_ARGUMENT', message);
  }
}

/** The message GCP sends with an etag mismatch (cloud-apis.md C1). */
export const CONCURRENT_CHANGE_MESSAGE =
  'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.';
