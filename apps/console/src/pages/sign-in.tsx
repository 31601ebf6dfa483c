import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { CONSOLE_ROUTES, signInWithToken } from '../api';
import { useSessionQuery } from '../session';
import { ErrorState } from '../components/states';
import { usePageTitle } from '../format';
import { BrandMark } from '../components/BrandMark';

/** Only paths inside the console are followed after sign-in (no open redirect). */
function safeReturnTo(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function SignInPage() {
  usePageTitle('Sign in');
  const [params] = useSearchParams();
  const returnTo = safeReturnTo(params.get('returnTo'));
  const session = useSessionQuery();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The broker sends a failed OIDC callback back here with ?error=<text>.
  const callbackError = params.get('error');

  if (session.data?.session) return <Navigate to={returnTo} replace />;
  const methods = session.data?.signIn ?? { oidc: true, token: true };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signInWithToken(token.trim());
      setToken('');
      await queryClient.invalidateQueries({ queryKey: ['session'] });
      void navigate(returnTo, { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <h1>
          <BrandMark /> JIT access console
        </h1>
        <p className="muted">Request, approve and audit just-in-time access to AWS, Azure and GCP.</p>
        {callbackError && <ErrorState error={new Error(callbackError)} title="Sign-in failed" />}
        {methods.oidc && (
        <a className="btn btn-primary btn-block" href={`${CONSOLE_ROUTES.login}?returnTo=${encodeURIComponent(`/console${returnTo}`)}`}>
          Sign in with your company account
        </a>
        )}
        {methods.oidc && methods.token && (
        <div className="divider" role="separator">
          <span>or</span>
        </div>
        )}
        {methods.token && (
        <form onSubmit={(e) => void onSubmit(e)} className="stack">
          <div className="field">
            <label htmlFor="token">Paste an API token</label>
            <input
              id="token"
              name="token"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              onChange={(e) => setToken(e.target.value)}
              aria-describedby="token-help"
              required
            />
            <p id="token-help" className="help">
              For the sandbox and operators: the token is sent once to the broker, which answers with a session cookie; the page never keeps it.
            </p>
          </div>
          <ErrorState error={error} title="Sign-in failed" />
          <button type="submit" className={methods.oidc ? 'btn' : 'btn btn-primary'} disabled={busy || token.trim() === ''}>
            {busy ? 'Signing in…' : 'Sign in with token'}
          </button>
        </form>
        )}
        {!methods.oidc && !methods.token && <p>This broker offers no console sign-in: set JIT_CONSOLE_OIDC_ISSUER (or, in a sandbox, JIT_CONSOLE_TOKEN_SIGN_IN=true).</p>}
      </div>
    </main>
  );
}
