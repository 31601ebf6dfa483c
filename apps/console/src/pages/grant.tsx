export function GrantPage() {
  return (
    <section>
      <h1>Grant</h1>
    </section>
  );
}
