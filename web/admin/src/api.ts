/**
 * The console's only way to the server: /api/v1 with the session cookie, and the session's CSRF
 * token on every change. Errors carry the API's problem detail, shown as they are.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The fields a validation error names: JSON pointer → message. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

let csrf = '';
export const setCsrf = (token: string | null) => {
  csrf = token ?? '';
};

/** Whether the signed-in user is an administrator: screens hide what operators may not change. */
let administrator = false;
export const setAdministrator = (yes: boolean) => {
  administrator = yes;
};
export const isAdministrator = () => administrator;

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API
export type Json = Record<string, any>;

/** A call with a JSON body, or with `raw` text of another type (e.g. a CSV file). */
export async function api<T = Json>(
  method: string,
  path: string,
  body?: unknown,
  raw?: { contentType: string },
): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined ? {} : { 'content-type': raw?.contentType ?? 'application/json' }),
      ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }),
    },
    body: body === undefined ? undefined : raw ? String(body) : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok)
    throw new ApiError(
      res.status,
      data.code ?? 'ERROR',
      data.detail ?? res.statusText,
      Object.fromEntries(
        ((data.errors ?? []) as { path: string; message: string }[]).map((e) => [e.path, e.message]),
      ),
    );
  return data as T;
}
