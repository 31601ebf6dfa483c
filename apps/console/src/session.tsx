import { createContext, useContext, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchSession, setCsrfToken, type ConsoleSession } from './api';

export type Role = 'requester' | 'approver' | 'auditor' | 'admin';

const SessionContext = createContext<ConsoleSession | null>(null);

export function useSessionQuery() {
  return useQuery({
    queryKey: ['session'],
    queryFn: async ({ signal }) => {
      const state = await fetchSession(signal);
      setCsrfToken(state.session?.csrfToken ?? null);
      return state;
    },
    staleTime: 60_000,
    retry: false,
  });
}

export function SessionProvider({ session, children }: { session: ConsoleSession; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The signed-in user's session; only under a SessionProvider (the signed-in layout). */
export function useSession(): ConsoleSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in layout');
  return session;
}

export function hasRole(session: ConsoleSession, ...roles: Role[]): boolean {
  return roles.some((r) => session.roles.includes(r));
}

export function useForgetSession() {
  const client = useQueryClient();
  return () => {
    setCsrfToken(null);
    client.clear();
    void client.invalidateQueries({ queryKey: ['session'] });
  };
}
