import { type Kysely, sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { portable } from './portable.ts';

/**
 * Sending (SPEC 4): email templates, the Email activity, the built-in Send Invitation workflow with
 * its From and template, and the mail transport's pause state. Frozen once landed.
 */

const DEFAULT_SUBJECT = "You're invited to {{ website.name }}";

const DEFAULT_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ website.name }}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;width:100%;background:#ffffff;border-radius:8px;padding:32px;">
<tr><td>
<h1 style="font-size:22px;margin:0 0 16px;">You're invited to {{ website.name }}</h1>
<p style="font-size:16px;line-height:1.5;margin:0 0 16px;">Hello {{ contact.firstName }},</p>
<p style="font-size:16px;line-height:1.5;margin:0 0 24px;">{% if inviter.fullName != "" %}{{ inviter.fullName }} has invited you{% elsif owner.email != "" %}{{ owner.name }} has invited you{% else %}You are invited{% endif %} to join {{ website.name }}. Select the button below to accept the invitation and set up your account.</p>
<p style="margin:0 0 24px;"><a href="{{ invitation.redemptionUrl }}" style="display:inline-block;background:#0b5cad;color:#ffffff;text-decoration:none;font-weight:600;font-size:16px;padding:12px 24px;border-radius:6px;">Accept invitation</a></p>
<p style="font-size:14px;line-height:1.5;margin:0 0 8px;color:#57606a;">If the button does not work, go to the link below and enter this invitation code:</p>
<p style="font-size:14px;line-height:1.5;margin:0 0 8px;word-break:break-all;"><a href="{{ invitation.redemptionUrl }}" style="color:#0b5cad;">{{ invitation.redemptionUrl }}</a></p>
<p style="font-size:18px;font-family:Menlo,Consolas,monospace;letter-spacing:1px;margin:0 0 24px;">{{ invitation.code }}</p>
{% if invitation.expiresOn != "" %}<p style="font-size:14px;line-height:1.5;margin:0;color:#57606a;">This invitation expires on {{ invitation.expiresOn }}.</p>{% endif %}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;

const DEFAULT_TEXT = `Hello {{ contact.firstName }},

{% if inviter.fullName != "" %}{{ inviter.fullName }} has invited you{% elsif owner.email != "" %}{{ owner.name }} has invited you{% else %}You are invited{% endif %} to join {{ website.name }}.

Accept the invitation here:
{{ invitation.redemptionUrl }}

Or go to the link and enter this invitation code: {{ invitation.code }}
{% if invitation.expiresOn != "" %}
This invitation expires on {{ invitation.expiresOn }}.{% endif %}
`;

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = portable(db);

  // An email template in Liquid: subject and text plain, html auto-escaped.
  await db.schema
    .createTable('email_templates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('key', 'varchar(100)', (c) => c.unique()) // built-ins only, e.g. invitation-default
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('subject', 'varchar(1000)', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();

  // The send workflow's sender and template; null from_address means "the owner, else MAIL_FROM".
  await db.schema.alterTable('workflows').addColumn('from_address', 'varchar(320)').execute();
  await db.schema
    .alterTable('workflows')
    .addColumn('template_id', t.id, (c) => c.references('email_templates.id'))
    .execute();

  // The Email activity: one message to one contact's primary email. Bodies are stored once rendered.
  await db.schema
    .createTable('emails')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('invitation_id', t.id, (c) => c.references('invitations.id').onDelete('cascade'))
    .addColumn('contact_id', t.id, (c) => c.references('contacts.id'))
    .addColumn('to_address', 'varchar(320)') // null when the contact had no primary email
    .addColumn('from_address', 'varchar(320)', (c) => c.notNull())
    .addColumn('subject', 'varchar(1000)')
    .addColumn('html', 'text')
    .addColumn('text', 'text')
    .addColumn('status', 'varchar(10)', (c) =>
      c.notNull().check(sql`status in ('pending', 'sending', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'varchar(2000)')
    .addColumn('message_id', 'varchar(255)', (c) => c.notNull().unique()) // ours, set at creation
    .addColumn('sent_at', t.instant)
    .addColumn('created_at', t.instant, (c) => c.notNull())
    .addColumn('updated_at', t.instant, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('emails__invitation_id').on('emails').column('invitation_id').execute();
  await db.schema.createIndex('emails__contact_id').on('emails').column('contact_id').execute();
  await db.schema.createIndex('emails__status').on('emails').column('status').execute();

  // One row: whether sending is paused (e.g. the SMTP server refused our credentials) and why.
  await db.schema
    .createTable('mail_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('paused_reason', 'varchar(2000)')
    .addColumn('paused_at', t.instant)
    .execute();

  const now = new Date().toISOString();
  const templateId = uuidv7();
  await sql`insert into email_templates (id, key, name, subject, html, text, created_at, updated_at)
    values (${templateId}, 'invitation-default', 'Invitation (default)', ${DEFAULT_SUBJECT}, ${DEFAULT_HTML}, ${DEFAULT_TEXT}, ${now}, ${now})`.execute(
    db,
  );
  await sql`insert into workflows (id, key, name, active, version, steps, from_address, template_id, created_at, updated_at)
    values (${uuidv7()}, 'send-invitation', 'Send Invitation', ${t.trueValue}, 1, ${JSON.stringify([{ type: 'send-email', templateId }])}, null, ${templateId}, ${now}, ${now})`.execute(
    db,
  );
  await sql`insert into mail_state (id, paused_reason, paused_at) values (1, null, null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('mail_state').execute();
  await db.schema.dropTable('emails').execute();
  await db.schema.alterTable('workflows').dropColumn('template_id').execute();
  await db.schema.alterTable('workflows').dropColumn('from_address').execute();
  await db.schema.dropTable('email_templates').execute();
}
