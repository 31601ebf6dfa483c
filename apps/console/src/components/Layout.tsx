import { useEffect, useRef } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { signOut } from '../api';
import { hasRole, SessionProvider, useForgetSession, useSessionQuery } from '../session';
import type { ConsoleSession } from '../api';
import { ErrorState, Loading } from './states';
import { BrandMark } from './BrandMark';

interface NavItem {
  to: string;
  label: string;
  show: (s: ConsoleSession) => boolean;
}

const NAV: NavItem[] = [
  { to: '/request', label: 'Request access', show: (s) => hasRole(s, 'requester', 'admin') },
  { to: '/grants', label: 'My grants', show: (s) => hasRole(s, 'requester', 'admin') },
  { to: '/inbox', label: 'Approvals', show: (s) => hasRole(s, 'approver', 'admin') },
  { to: '/all-grants', label: 'All grants', show: (s) => hasRole(s, 'auditor', 'admin') },
  { to: '/audit', label: 'Audit', show: (s) => hasRole(s, 'auditor', 'admin') },
  { to: '/insights', label: 'Insights', show: (s) => hasRole(s, 'auditor', 'admin') },
  { to: '/discovery', label: 'Discovery', show: (s) => hasRole(s, 'auditor', 'admin') },
  // Reviewers are approvers (or anyone in a campaign's reviewer groups): the campaign says which items are theirs.
  { to: '/reviews', label: 'Reviews', show: (s) => hasRole(s, 'approver', 'auditor', 'admin') },
];

export function navFor(session: ConsoleSession): NavItem[] {
  return NAV.filter((item) => item.show(session));
}

/** The signed-in frame: header with the user and sign-out, nav by role, the page. */
export function Layout() {
  const session = useSessionQuery();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);

  // Move focus to the page on navigation, so keyboard and screen-reader users land on the new content.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  if (session.isPending) return <Loading what="your session" />;
  if (session.isError) return <div className="page"><ErrorState error={session.error} title="Could not read your session" /></div>;
  if (!session.data.session) return <Navigate to={`/sign-in?returnTo=${encodeURIComponent(location.pathname + location.search)}`} replace />;

  return (
    <SessionProvider session={session.data.session}>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <div className="brand">
          <BrandMark /> JIT access
        </div>
        <nav aria-label="Main" className="mainnav">
          <ul>
            {navFor(session.data.session).map((item) => (
              <li key={item.to}>
                <NavLink to={item.to}>{item.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <UserMenu session={session.data.session} />
      </header>
      <main id="main" ref={main} tabIndex={-1} className="page">
        <Outlet />
      </main>
    </SessionProvider>
  );
}

function UserMenu({ session }: { session: ConsoleSession }) {
  const forget = useForgetSession();
  const navigate = useNavigate();
  const onSignOut = async () => {
    try {
      await signOut();
    } finally {
      forget();
      void navigate('/sign-in', { replace: true });
    }
  };
  return (
    <div className="user">
      <span className="user-name" title={session.subject}>
        {session.name ?? session.subject}
      </span>
      <span className="user-roles">{session.roles.join(', ')}</span>
      <button type="button" className="btn btn-quiet" onClick={() => void onSignOut()}>
        Sign out
      </button>
    </div>
  );
}
