import type { BrokerApi } from '../../../apps/cli/src/core/broker-api';
import { httpBroker } from '../../../apps/cli/src/core/http-broker';
import { DEFAULT_OIDC_AUDIENCE, TokenSource, githubActionsToken, staticToken } from '../../../apps/cli/src/core/token-source';
import { input, mask } from './actions-runtime';

/**
 * The broker as both steps reach it: the `broker-url` input, and the `token` input or else the
 * job's OIDC token minted for `audience` (the CLI's own token sources and HTTP client).
 */
export function brokerFromInputs(): BrokerApi {
  const url = input('broker-url').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new Error(`broker-url: must be an http(s) URL, got ${JSON.stringify(url)}`);
  return httpBroker(url, tokenFromInputs());
}

function tokenFromInputs(): TokenSource {
  const token = input('token');
  if (token) {
    mask(token);
    return staticToken(token, 'the token input');
  }
  const requestUrl = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new Error('no OIDC token: give the job `permissions: id-token: write` (or pass a broker token in the token input)');
  }
  mask(requestToken);
  const minted = githubActionsToken(requestUrl, requestToken, input('audience') || DEFAULT_OIDC_AUDIENCE);
  return {
    describe: minted.describe,
    async getToken() {
      const jwt = await minted.getToken();
      mask(jwt);
      return jwt;
    },
  };
}
