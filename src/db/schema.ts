import type { ColumnType, Generated } from 'kysely';

/**
 * Table types as the drivers see them. Instants are written as ISO-8601 strings and read as
 * strings (SQLite) or Dates (PostgreSQL); booleans are written as 0/1 and read as 0/1 or
 * true/false; JSON is written as text and read as text or an object. The row mappers
 * (`src/db/values.ts`) turn them into domain values in one place.
 */
export type Instant = ColumnType<string | Date, string, string>;
export type NullableInstant = ColumnType<string | Date | null, string | null, string | null>;
export type Bool = ColumnType<number | boolean, number, number>;
export type Json = ColumnType<unknown, string, string>;

export interface WebsitesTable {
  id: string;
  name: string;
  slug: string;
  base_url: string | null;
  settings: Json;
  existing_user_path: string | null;
  redirect_path: string | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface WebRolesTable {
  id: string;
  website_id: string;
  name: string;
  description: string | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface AccountsTable {
  id: string;
  name: string;
  created_at: Instant;
  updated_at: Instant;
}

export interface ContactsTable {
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  email_normalized: string | null;
  email2: string | null;
  email3: string | null;
  parent_account_id: string | null;
  username: string | null;
  username_normalized: string | null;
  password_hash: string | null;
  login_enabled: Bool;
  email_confirmed: Bool;
  last_sign_in_at: NullableInstant;
  /** A primary email change waiting for its confirmation link. */
  pending_email: string | null;
  created_at: Instant;
  updated_at: Instant;
}

/** Where a contact's credentials work (SPEC 5: websites are kept apart). */
export interface WebsiteAccessTable {
  contact_id: string;
  website_id: string;
  source: 'redemption' | 'registration' | 'admin' | 'revoked';
  created_at: Instant;
}

/** A registration through an invitation, waiting for its email to be confirmed. */
export interface PendingRegistrationsTable {
  id: string;
  website_id: string;
  invitation_id: string;
  code_hash: string;
  contact_id: string | null;
  claimed_email: string | null;
  email: string;
  username: string | null;
  password_hash: string;
  expires_at: Instant;
  used_at: NullableInstant;
  created_at: Instant;
}

export interface ContactWebRolesTable {
  contact_id: string;
  web_role_id: string;
  created_at: Instant;
}

export interface IdentityProvidersTable {
  id: string;
  website_id: string;
  protocol: 'oidc';
  display_name: string;
  button_label: string;
  issuer: string;
  client_id: string;
  /** Sealed (secret-box.ts); never leaves the server. */
  client_secret: string;
  /** Space-separated OAuth scopes. */
  scopes: string;
  trust_email_verified: Bool;
  enabled: Bool;
  created_at: Instant;
  updated_at: Instant;
}

export interface ExternalLoginsTable {
  id: string;
  contact_id: string;
  provider_id: string;
  subject: string;
  email: string | null;
  created_at: Instant;
  last_used_at: NullableInstant;
}

export interface UsersTable {
  id: string;
  name: string;
  email: string;
  email_normalized: string;
  role: 'admin' | 'operator';
  disabled: Bool;
  password_hash: string | null;
  must_change_password: ColumnType<number | boolean, number | undefined, number>;
  created_at: Instant;
  updated_at: Instant;
}

export interface UserTokensTable {
  id: string;
  user_id: string;
  purpose: 'invite' | 'reset-password';
  email: string | null;
  expires_at: Instant;
  used_at: NullableInstant;
  created_at: Instant;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  last_used_at: NullableInstant;
  created_at: Instant;
}

export interface WorkflowsTable {
  id: string;
  key: string | null;
  name: string;
  active: Bool;
  version: Generated<number>;
  steps: Json;
  from_address: string | null;
  template_id: string | null;
  website_id: string | null;
  event_types: ColumnType<unknown, string | undefined, string>;
  created_at: Instant;
  updated_at: Instant;
}

export interface WorkflowVersionsTable {
  workflow_id: string;
  version: number;
  name: string;
  steps: Json;
  created_at: Instant;
}

export type WorkflowRunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export interface WorkflowRunsTable {
  id: string;
  workflow_id: string;
  workflow_version: number;
  trigger: 'redemption' | 'manual' | 'event';
  contact_id: string;
  invitation_id: string | null;
  website_id: string | null;
  event_id: string | null;
  status: WorkflowRunStatus;
  next_step: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  wait_until: NullableInstant;
  last_error: string | null;
  created_by: string | null;
  created_at: Instant;
  updated_at: Instant;
  finished_at: NullableInstant;
}

export interface WorkflowRunLogTable {
  id: string;
  run_id: string;
  step_index: number | null;
  step_type: string | null;
  outcome: string;
  message: string;
  at: Instant;
}

export interface EventsTable {
  id: string;
  type: string;
  data: Json;
  created_at: Instant;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string | null;
  event_types: Json;
  enabled: Bool;
  secret_version: number;
  previous_secret_version: number | null;
  previous_secret_until: NullableInstant;
  disabled_reason: string | null;
  failing_since: NullableInstant;
  last_failed_at: NullableInstant;
  created_at: Instant;
  updated_at: Instant;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: NullableInstant;
  last_status: number | null;
  last_error: string | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  status_code: number | null;
  duration_ms: number;
  response: string | null;
  error: string | null;
  at: Instant;
}

export interface EmailTemplatesTable {
  id: string;
  key: string | null;
  name: string;
  subject: string;
  html: string;
  text: string;
  created_at: Instant;
  updated_at: Instant;
}

export interface EmailsTable {
  id: string;
  /** Which message source composes it (emails/email.delivery.ts); `source_id` its own record. */
  kind: string;
  source_id: string | null;
  /** The delivery job that may send it now; null: any job that lists it. */
  job_id: string | null;
  invitation_id: string | null;
  contact_id: string | null;
  to_address: string | null;
  from_address: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  message_id: string;
  sent_at: NullableInstant;
  created_at: Instant;
  updated_at: Instant;
}

export interface MailStateTable {
  id: number;
  paused_reason: string | null;
  paused_at: NullableInstant;
  trouble: 'unreachable' | 'deferring' | null;
  trouble_since: NullableInstant;
  trouble_reply: string | null;
  next_probe_at: NullableInstant;
  probe_delay_ms: number | null;
}

export interface OperationsTable {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  input: Json;
  total: number;
  done: ColumnType<number, number | undefined, number>;
  created: ColumnType<number, number | undefined, number>;
  skipped: ColumnType<number, number | undefined, number>;
  queued: ColumnType<number, number | undefined, number>;
  failed: ColumnType<number, number | undefined, number>;
  error: string | null;
  actor_type: 'user' | 'contact' | 'system';
  actor_id: string | null;
  created_at: Instant;
  updated_at: Instant;
  finished_at: NullableInstant;
}

export interface OperationChunksTable {
  operation_id: string;
  seq: number;
  first_position: number;
  items: Json;
}

export interface OperationFailuresTable {
  operation_id: string;
  position: number;
  item: string | null;
  code: string;
  detail: string;
}

export interface InvitationsTable {
  id: string;
  name: string;
  type: 'single' | 'group';
  website_id: string;
  owner_id: string;
  inviter_contact_id: string | null;
  expires_at: NullableInstant;
  assign_to_account_id: string | null;
  redemption_workflow_id: string | null;
  max_redemptions: number;
  redemption_count: number;
  state: 'active' | 'inactive';
  status_reason: 'new' | 'sent' | 'redeemed' | 'inactive';
  invited_contacts_only: ColumnType<number | boolean, number | undefined, number>;
  code_hash: string;
  code_version: number;
  last_sent_at: NullableInstant;
  created_at: Instant;
  updated_at: Instant;
}

export interface InvitationInvitedContactsTable {
  invitation_id: string;
  contact_id: string;
}

export interface InvitationWebRolesTable {
  invitation_id: string;
  web_role_id: string;
}

export interface InvitationRedeemedContactsTable {
  invitation_id: string;
  contact_id: string;
  redeemed_at: Instant;
}

export interface InviteRedemptionsTable {
  id: string;
  invitation_id: string;
  contact_id: string;
  username: string | null;
  method: 'register' | 'signin' | 'external';
  /** The identity provider of an `external` redemption. */
  identity_provider_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  created_at: Instant;
}

export interface AuditEventsTable {
  id: string;
  actor_type: 'user' | 'contact' | 'system';
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
  data: Json;
  ip_address: string | null;
  created_at: Instant;
}

export interface JobsTable {
  id: string;
  type: string;
  payload: Json;
  status: 'queued' | 'running' | 'succeeded' | 'dead';
  run_at: Instant;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: NullableInstant;
  last_error: string | null;
  created_at: Instant;
  updated_at: Instant;
}

/** A browser session; `id` is the SHA-256 of the cookie's token. */
export interface SessionsTable {
  id: string;
  website_id: string | null;
  contact_id: string | null;
  user_id: string | null;
  data: Json;
  created_at: Instant;
  last_seen_at: Instant;
  expires_at: Instant;
}

export interface RateLimitsTable {
  key: string;
  window_start: ColumnType<number | string, number, number>;
  count: number;
}

export interface ContactTokensTable {
  id: string;
  contact_id: string;
  website_id: string;
  purpose: 'reset-password' | 'confirm-email';
  email: string | null;
  expires_at: Instant;
  used_at: NullableInstant;
  created_at: Instant;
}

export interface WebPagesTable {
  id: string;
  website_id: string;
  path: string;
  title: string;
  content: string;
  public: Bool;
  created_at: Instant;
  updated_at: Instant;
}

export interface WebPageRolesTable {
  web_page_id: string;
  web_role_id: string;
}

export interface Database {
  websites: WebsitesTable;
  web_roles: WebRolesTable;
  accounts: AccountsTable;
  contacts: ContactsTable;
  website_access: WebsiteAccessTable;
  pending_registrations: PendingRegistrationsTable;
  contact_web_roles: ContactWebRolesTable;
  identity_providers: IdentityProvidersTable;
  external_logins: ExternalLoginsTable;
  users: UsersTable;
  user_tokens: UserTokensTable;
  api_keys: ApiKeysTable;
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  workflow_runs: WorkflowRunsTable;
  workflow_run_log: WorkflowRunLogTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  invitations: InvitationsTable;
  invitation_invited_contacts: InvitationInvitedContactsTable;
  invitation_web_roles: InvitationWebRolesTable;
  invitation_redeemed_contacts: InvitationRedeemedContactsTable;
  invite_redemptions: InviteRedemptionsTable;
  audit_events: AuditEventsTable;
  jobs: JobsTable;
  email_templates: EmailTemplatesTable;
  emails: EmailsTable;
  mail_state: MailStateTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
  contact_tokens: ContactTokensTable;
  web_pages: WebPagesTable;
  web_page_roles: WebPageRolesTable;
  operations: OperationsTable;
  operation_chunks: OperationChunksTable;
  operation_failures: OperationFailuresTable;
}
