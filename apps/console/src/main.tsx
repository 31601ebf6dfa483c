import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { JitApiError } from '@jit/client';
import { App } from './App';
import './styles.css';

/** A 401 from the API means the session ended (expired, or signed out elsewhere): read it again, and the layout sends the user to sign-in. */
const onError = (error: unknown) => {
  if (error instanceof JitApiError && error.status === 401) void queryClient.invalidateQueries({ queryKey: ['session'] });
};

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      // A 4xx will not change on a retry; a network blip or a 503 might.
      retry: (count, error) => count < 2 && !(error instanceof Error && 'status' in error && Number(error.status) < 500),
      refetchOnWindowFocus: true,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
