import { OAuth2Client } from 'google-auth-library';

/**
 * An auth client that always presents one bearer token: the client libraries refuse to call
 * without credentials, and a simulator has no token endpoint to refresh against.
 */
export function staticTokenClient(accessToken: string): OAuth2Client {
  const client = new OAuth2Client();
  // Far-future expiry: without a refresh token the library would otherwise try to refresh and fail.
  client.setCredentials({ access_token: accessToken, expiry_date: Date.now() + 10 * 365 * 24 * 3600 * 1000 });
  return client;
}
