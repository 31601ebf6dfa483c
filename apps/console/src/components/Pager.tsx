import { useState, type ReactNode } from 'react';

/**
 * The API's cursor paging as a stack: the cursor of each page seen, the current one last.
 * `next` pushes the page's `nextCursor`, `back` pops, `reset` starts again (after a filter change).
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    /** 1 for the first page. */
    page: cursors.length,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    back: () => setCursors((c) => c.slice(0, -1)),
    reset: () => setCursors([undefined]),
  };
}

/** Back and forward buttons over `useCursorPages`, with an optional status between them. */
export function Pager({
  pages,
  nextCursor,
  labels,
  status,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  labels: [back: string, forward: string];
  status?: ReactNode;
}) {
  return (
    <div className="pager">
      <button type="button" className="btn btn-small" disabled={pages.page === 1} onClick={pages.back}>
        ← {labels[0]}
      </button>
      {status !== undefined && <span className="muted">{status}</span>}
      <button type="button" className="btn btn-small" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>
        {labels[1]} →
      </button>
    </div>
  );
}
