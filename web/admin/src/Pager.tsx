/**
 * Previous and Next over the API's cursor pages. `cursors` is the stack of cursors that led to the
 * page shown (empty: the first page); `onMove` gets the new stack, whose last cursor is the page to load.
 */
export function Pager({
  cursors,
  nextCursor,
  onMove,
}: {
  cursors: string[];
  nextCursor: string | null;
  onMove: (cursors: string[]) => void;
}) {
  return (
    <div className="row">
      <button type="button" disabled={cursors.length === 0} onClick={() => onMove(cursors.slice(0, -1))}>
        Previous
      </button>
      <button
        type="button"
        disabled={!nextCursor}
        onClick={() => nextCursor && onMove([...cursors, nextCursor])}
      >
        Next
      </button>
    </div>
  );
}
