export function InboxPage() {
  return (
    <section>
      <h1>Approvals</h1>
    </section>
  );
}
