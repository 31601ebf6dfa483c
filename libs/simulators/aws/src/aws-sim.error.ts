/** An AWS Query error reply: code, HTTP status and fault type as the botocore models declare them. */
export class AwsSimError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'AwsSimError';
  }

  static noSuchEntity(message: string): AwsSimError {
    return new AwsSimError('NoSuchEntity', 404, message);
  }

  static malformedPolicy(message: string): AwsSimError {
    return new AwsSimError('MalformedPolicyDocument', 400, message);
  }

  static limitExceeded(message: string): AwsSimError {
    return new AwsSimError('LimitExceeded', 409, message);
  }

  /** Constraint violations on request members: the service answers `ValidationError`, not a modeled shape. */
  static validation(message: string): AwsSimError {
    return new AwsSimError('ValidationError', 400, message);
  }

  static accessDenied(message: string): AwsSimError {
    return new AwsSimError('AccessDenied', 403, message);
  }
}
