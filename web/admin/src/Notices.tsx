/**
 * What happened, said where screen readers hear it: a status message, or an error as an alert. Both
 * stay in view at the top while the screen scrolls, so an action far down the page shows its result.
 */
export function Notices({ message, error }: { message?: string; error?: string }) {
  return (
    <>
      {message && (
        <p role="status" className="notice">
          {message}
        </p>
      )}
      {error && (
        <p role="alert" className="notice error">
          {error}
        </p>
      )}
    </>
  );
}
