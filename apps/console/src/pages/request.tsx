export function RequestPage() {
  return (
    <section>
      <h1>Request access</h1>
    </section>
  );
}
