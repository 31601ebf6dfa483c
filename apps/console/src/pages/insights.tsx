// Placeholder: C-data owns this page and apps/console/src/charts/** (charts from GET /v1/stats).
export function InsightsPage() {
  return (
    <section>
      <h1>Insights</h1>
      <p className="muted">Charts of grants, revocation lag and denials appear here.</p>
    </section>
  );
}
