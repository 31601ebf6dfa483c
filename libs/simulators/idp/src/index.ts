/**
 * A simulated company identity provider (OpenID Connect authorization code + PKCE, a login form
 * listing configured users, id_tokens with a `groups` claim) for the console's sign-in in tests
 * and the sandbox. Imports nothing in the repo but the simulator kit (@jit/sim-kit).
 */
export { IdpSimulator } from './idp.simulator';
export type { IdpClient, IdpSimulatorOptions, IdpUser } from './idp.simulator';
