import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import type { ApiApp } from '../../http/api.ts';
import { Id, Nullable, problems } from '../../http/schemas.ts';
import { invitationFunnel } from './stats.service.ts';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'A UTC day, YYYY-MM-DD' });
const Counts = {
  created: Type.Integer({ description: 'Invitations created that day' }),
  sent: Type.Integer({ description: 'Invitations with a message accepted by the mail server that day' }),
  redeemed: Type.Integer({ description: 'Redemptions that day' }),
  expired: Type.Integer({ description: 'Invitations whose expiry passed that day with places left' }),
};

export async function statsRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/stats/invitations',
    {
      schema: {
        tags: ['Stats'],
        summary: 'The invitation funnel per day (the dashboard chart)',
        description:
          'Every UTC day from `from` to `to`, both included (default: the 30 days up to today; at most 366), with zeros on quiet days.',
        querystring: Type.Object({
          from: Type.Optional(Day),
          to: Type.Optional(Day),
          websiteId: Type.Optional(Id),
        }),
        response: {
          200: Type.Object({
            from: Day,
            to: Day,
            websiteId: Nullable(Id),
            days: Type.Array(Type.Object({ day: Day, ...Counts })),
            totals: Type.Object(Counts),
            conversion: Nullable(
              Type.Number({ description: 'Redeemed ÷ sent over the period; null when nothing was sent' }),
            ),
            medianSecondsToRedeem: Nullable(
              Type.Integer({
                description:
                  "The median time from an invitation's first accepted email (its creation if never emailed) to each redemption of the period, in seconds",
              }),
            ),
          }),
          ...problems(400, 404),
        },
      },
    },
    async (req) => invitationFunnel(deps, req.query),
  );
}
