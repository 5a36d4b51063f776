import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import { csvExport } from '../../csv.ts';
import type { ApiApp } from '../../http/api.ts';
import { Id, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import { findContactsByIds } from '../contacts/contact.ts';
import { findInvitationsByIds } from './invitation.repository.ts';
import * as schemas from './invitation.schemas.ts';
import { findRedemptions } from './invitation.service.ts';

const tags = ['Invitations'];

const Filters = {
  invitationId: Type.Optional(Id),
  contactId: Type.Optional(Id),
  websiteId: Type.Optional(Id),
};

/** Invite Redemption activities across invitations: a list and a CSV export (SPEC 6). */
export async function redemptionRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.get(
    '/redemptions',
    {
      schema: {
        tags,
        summary: 'Invite Redemption activities, newest first, by invitation, contact or website',
        querystring: Type.Object({ ...ListQuery, ...Filters }),
        response: { 200: PageOf(schemas.InviteRedemption), ...problems(400) },
      },
    },
    async (req) => findRedemptions(deps, { ...req.query, limit: req.query.limit ?? 50 }),
  );
  app.get(
    '/redemptions/export',
    {
      schema: {
        tags,
        summary: 'Export Invite Redemption activities as CSV (text/csv), with invitation and contact',
        description:
          'The same filters as GET /redemptions, every page. Cells a spreadsheet would run as a formula are prefixed with an apostrophe.',
        querystring: Type.Object(Filters, { additionalProperties: false }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problems(400) },
      },
    },
    async (req, reply) => {
      const lines = csvExport(
        [
          'id',
          'createdAt',
          'invitationId',
          'invitationName',
          'websiteId',
          'contactId',
          'firstName',
          'lastName',
          'email',
          'method',
          'identityProviderId',
          'username',
        ],
        async (cursor) => {
          const page = await findRedemptions(deps, { ...req.query, limit: 500, cursor });
          const invitations = new Map(
            (await findInvitationsByIds(deps.db, [...new Set(page.items.map((r) => r.invitationId))])).map(
              (i) => [i.id, i],
            ),
          );
          const contacts = new Map(
            (await findContactsByIds(deps.db, [...new Set(page.items.map((r) => r.contactId))])).map((c) => [
              c.id,
              c,
            ]),
          );
          return {
            nextCursor: page.nextCursor,
            items: page.items.map((r) => ({
              r,
              i: invitations.get(r.invitationId),
              c: contacts.get(r.contactId),
            })),
          };
        },
        ({ r, i, c }) => [
          r.id,
          r.createdAt,
          r.invitationId,
          i?.name,
          i?.websiteId,
          r.contactId,
          c?.firstName,
          c?.lastName,
          c?.email,
          r.method,
          r.identityProviderId,
          r.username,
        ],
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="redemptions.csv"')
        .send(Readable.from(lines) as unknown as string);
    },
  );
}
