import { Navigate } from 'react-router';
import { navFor } from '../components/Layout';
import { useSession } from '../session';
import { Empty } from '../components/states';

/** /console/: the first page the user's roles allow (approvers land in their inbox). */
export function HomeRedirect() {
  const session = useSession();
  const nav = navFor(session);
  const first = nav.find((n) => n.to === '/inbox') ?? nav.find((n) => n.to === '/audit') ?? nav[0];
  if (!first) return <Empty>Your identity has no console role (requester, approver, auditor or admin).</Empty>;
  return <Navigate to={first.to} replace />;
}
