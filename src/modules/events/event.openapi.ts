import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from './event.types.ts';

/**
 * The OpenAPI 3.1 `webhooks` of the document: one entry per event type, the Standard Webhooks
 * message an endpoint receives (`{type, timestamp, data}`) with its documented `data`.
 */
export function webhookDocuments(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(EVENT_TYPES).map(([type, { summary, data }]) => [
      type,
      {
        post: {
          summary,
          description:
            'Signed as Standard Webhooks says: `webhook-id` (the event id; the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64 HMAC-SHA-256 of `id.timestamp.body` with the secret after `whsec_`; during a rotation, one signature per secret). Answer 2xx within 10 s; anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: Type.Object({
                  type: Type.Literal(type),
                  timestamp: Type.String({ format: 'date-time', description: 'When the change happened' }),
                  data,
                }),
              },
            },
          },
          responses: { '200': { description: 'Received (any 2xx)' } },
        },
      },
    ]),
  );
}
