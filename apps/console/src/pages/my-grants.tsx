export function MyGrantsPage() {
  return (
    <section>
      <h1>My grants</h1>
    </section>
  );
}
