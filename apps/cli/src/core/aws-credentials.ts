import { CliError, EXIT } from '../exit-codes';

/** What the broker hands out once, in the 201 of an `aws.sts-credentials` request. */
export interface StsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

export function stsCredentialsOf(credentials: Record<string, string> | undefined): StsCredentials {
  const c = credentials ?? {};
  if (!c.accessKeyId || !c.secretAccessKey || !c.sessionToken) {
    throw new CliError('the broker answered without credentials (they are handed out once, in the response that creates the grant)', EXIT.failed);
  }
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration ?? '' };
}

/**
 * The standard AWS SDK and CLI environment variables for a session, for a child process's
 * environment only. AWS_PROFILE and the shared-file variables are removed, since the SDKs
 * prefer a named profile over these keys in some versions.
 */
export function awsEnvironment(c: StsCredentials, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.AWS_PROFILE;
  delete env.AWS_DEFAULT_PROFILE;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken,
    ...(c.expiration ? { AWS_CREDENTIAL_EXPIRATION: c.expiration } : {}),
  };
}

/** The `credential_process` answer (Version 1) the AWS SDKs and CLI read from a helper's stdout. */
export function credentialProcessJson(c: StsCredentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    ...(c.expiration ? { Expiration: c.expiration } : {}),
  });
}
