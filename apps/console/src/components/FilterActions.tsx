/** The two buttons under a filter form: apply it (the form's submit), or clear it and apply nothing. */
export function FilterActions({ onClear }: { onClear: () => void }) {
  return (
    <div className="actions filters-actions">
      <button type="submit" className="btn btn-primary btn-small">
        Apply filters
      </button>
      <button type="button" className="btn btn-quiet btn-small" onClick={onClear}>
        Clear
      </button>
    </div>
  );
}
