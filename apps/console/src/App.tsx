import { lazy, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { Loading } from './components/states';
import { SignInPage } from './pages/sign-in';
import { RequestPage } from './pages/request';
import { MyGrantsPage } from './pages/my-grants';
import { InboxPage } from './pages/inbox';
import { AuditPage } from './pages/audit';
import { AllGrantsPage } from './pages/all-grants';
import { GrantPage } from './pages/grant';
import { HomeRedirect } from './pages/home';
import { DiscoveryPage } from './pages/discovery';
import { FindingPage } from './pages/finding';
import { ReviewsPage } from './pages/reviews';
import { CampaignPage } from './pages/campaign';

// The charts page (C-data's, apps/console/src/pages/insights*) brings its chart library: loaded when visited.
const InsightsPage = lazy(() => import('./pages/insights').then((m) => ({ default: m.InsightsPage })));


/**
 * Routes under /console/: sign-in outside the layout; everything else needs a session (Layout
 * sends a signed-out visitor to sign-in) and is shown in the nav by role. A page a role cannot use
 * still renders the broker's 403 problem if opened by URL: the API decides, not the console.
 */
export function App() {
  return (
    <BrowserRouter basename="/console">
      <Routes>
        <Route path="sign-in" element={<SignInPage />} />
        <Route element={<Layout />}>
          <Route index element={<HomeRedirect />} />
          <Route path="request" element={<RequestPage />} />
          <Route path="grants" element={<MyGrantsPage />} />
          <Route path="grants/:id" element={<GrantPage />} />
          <Route path="inbox" element={<InboxPage />} />
          <Route path="audit" element={<AuditPage />} />
          <Route path="all-grants" element={<AllGrantsPage />} />
          <Route
            path="insights"
            element={
              <Suspense fallback={<Loading what="charts" />}>
                <InsightsPage />
              </Suspense>
            }
          />
          {/* Discovery's summary chart (Chart.js) is lazy inside the page, as Insights is. */}
          <Route path="discovery" element={<DiscoveryPage />} />
          <Route path="discovery/findings/:id" element={<FindingPage />} />
          <Route path="reviews" element={<ReviewsPage />} />
          <Route path="reviews/:id" element={<CampaignPage />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
