/**
 * The one catalogue of errors Admit reports. Services throw `AppError`s; the HTTP layer turns them
 * into problem+json (API) or an error page (portal). Codes are stable: clients may switch on them.
 */
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The body is not valid JSON' },
  INVALID_CURSOR: { status: 400, title: 'The cursor is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  CSRF_FAILED: { status: 403, title: 'The CSRF token is missing or wrong' },
  PASSWORD_CHANGE_REQUIRED: { status: 403, title: 'Choose a new password first' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed here' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive' },
  CONFLICT: { status: 409, title: 'Conflict' },
  TOKEN_NOT_VALID: { status: 410, title: 'The link has expired or was already used' },
  SLUG_TAKEN: { status: 409, title: 'The slug is already used by another website' },
  WEB_ROLE_NAME_TAKEN: { status: 409, title: 'The website already has a web role with this name' },
  WEB_PAGE_PATH_TAKEN: { status: 409, title: 'The website already has a web page at this path' },
  IDENTITY_PROVIDER_NAME_TAKEN: {
    status: 409,
    title: 'The website already has an identity provider with this display name',
  },
  USERNAME_TAKEN: { status: 409, title: 'The username is already taken' },
  EMAIL_TAKEN: { status: 409, title: 'The email already belongs to a user' },
  IN_USE: { status: 409, title: 'The record is still referenced' },
  ALREADY_INVITED: { status: 409, title: 'The contact already holds an open invitation to this website' },
  INVITATION_REDEEMED: { status: 409, title: 'The invitation has been redeemed' },
  INVITATION_NOT_SENDABLE: { status: 409, title: 'The invitation cannot be sent' },
  NO_RECIPIENTS: { status: 409, title: 'The invitation has no invited contacts to send to' },
  WORKFLOW_INACTIVE: { status: 409, title: 'The Send Invitation workflow is deactivated' },
  WORKFLOW_ACTIVE: { status: 409, title: 'Deactivate the workflow before editing it' },
  EMAIL_NOT_RETRYABLE: { status: 409, title: 'Only a failed email can be retried' },
  INVITATION_NOT_REDEEMABLE: { status: 422, title: 'The invitation code is not valid' },
  ACCOUNT_EXISTS: { status: 409, title: 'An account already exists for this email or username' },
  INVITATION_EMAIL_REQUIRED: { status: 422, title: 'Register with the email the invitation was sent to' },
  EXTERNAL_EMAIL_MISMATCH: {
    status: 422,
    title: 'The identity provider did not confirm the address the invitation was sent to',
  },
  INVITATION_FOR_INVITED_ONLY: { status: 422, title: 'The invitation is only for its invited contacts' },
  EMAIL_CHANGE_UNAVAILABLE: { status: 409, title: 'This portal cannot confirm a new email address' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The body is too large' },
  URI_TOO_LONG: { status: 414, title: 'The URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL: { status: 500, title: 'Something went wrong on our side' },
  UNAVAILABLE: { status: 503, title: 'Not ready' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The database is unavailable; try again shortly' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FieldError {
  /** JSON pointer of the offending field, e.g. `/webRoleIds/0`; empty for the whole body. */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = 'AppError';
    this.status = errorCatalogue[code].status;
  }
}

export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `No ${what} with id ${id}.`);

/** One or more field problems: a 400 VALIDATION_FAILED listing each. */
export const invalid = (path: string, message: string) =>
  new AppError('VALIDATION_FAILED', message, [{ path, message }]);

/** Throws one VALIDATION_FAILED listing every field problem, if there are any. */
export function throwIfInvalid(errors: readonly FieldError[]): void {
  if (errors.length > 0)
    throw new AppError('VALIDATION_FAILED', errors.map((e) => e.message).join(' '), [...errors]);
}

/**
 * The uniform failure of any code (unknown, expired, used up, inactive, other website, wrong
 * contact) so codes cannot be probed. The message is the one the portal shows.
 */
export const INVALID_CODE_MESSAGE =
  "This invitation code isn't valid. It may have expired or already been used. Ask the person who invited you for a new one.";
export const notRedeemable = () => new AppError('INVITATION_NOT_REDEEMABLE', INVALID_CODE_MESSAGE);
