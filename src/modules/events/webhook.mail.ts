import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { deliveryJobs, insertEmails, type MessageSource, newEmail } from '../emails/email.ts';
import { findEnabledAdmins } from '../users/user.ts';
import { findEndpointsByIds, type WebhookEndpoint } from './webhook.repository.ts';

/** The email kind that tells administrators an endpoint was disabled. */
export const ENDPOINT_DISABLED_KIND = 'webhook-disabled';

/**
 * Queues, in the transaction that disables it, an email to every enabled administrator saying
 * that `endpoint` was disabled and why (webhook.delivery.ts `onEndpointDisabled`).
 */
export async function mailEndpointDisabled(trx: Conn, deps: Deps, endpoint: WebhookEndpoint): Promise<void> {
  const admins = await findEnabledAdmins(trx);
  if (admins.length === 0) return;
  const now = deps.now();
  const emails = admins.map((a) =>
    newEmail(
      deps,
      {
        kind: ENDPOINT_DISABLED_KIND,
        sourceId: endpoint.id,
        invitationId: null,
        contactId: null,
        to: a.email,
        from: deps.config.mailFrom,
      },
      now.toISOString(),
    ),
  );
  await insertEmails(trx, emails);
  await enqueue(trx, now, deliveryJobs(emails.map((e) => e.id)));
}

const TEMPLATE = {
  subject: 'Webhook endpoint disabled: {{ url }}',
  html: `<p>The webhook endpoint {{ url }} was disabled: every delivery to it failed for five days.</p>
<p>{{ reason }}</p>
<p>Events are no longer sent to it. When the receiver works again, enable the endpoint in the console and replay the deliveries you need:</p>
<p><a href="{{ console }}">Webhook endpoints</a></p>`,
  text: `The webhook endpoint {{ url }} was disabled: every delivery to it failed for five days.

{{ reason }}

Events are no longer sent to it. When the receiver works again, enable the endpoint in the console and replay the deliveries you need:
{{ console }}`,
};

/** Composes the "endpoint disabled" emails; refused when the endpoint was deleted or enabled again. */
export const endpointDisabledMessages: MessageSource<Map<string, WebhookEndpoint>> = {
  async load(deps, emails) {
    const ids = [...new Set(emails.flatMap((e) => (e.sourceId ? [e.sourceId] : [])))];
    return new Map((await findEndpointsByIds(deps.db, ids)).map((e) => [e.id, e]));
  },
  compose(deps, email, endpoints) {
    const endpoint = email.sourceId ? endpoints.get(email.sourceId) : undefined;
    if (!endpoint || endpoint.enabled) return { refused: 'ENDPOINT_CHANGED: deleted or enabled again' };
    return {
      templateKey: 'builtin:webhook-disabled:1',
      template: TEMPLATE,
      vars: {
        url: endpoint.url,
        reason: endpoint.disabledReason ?? '',
        console: `${deps.config.publicUrl}/admin#/webhooks/${endpoint.id}`,
      },
      secrets: [],
      mask: '',
    };
  },
};
