import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import { csvExport, MAX_CSV_BYTES } from '../../csv.ts';
import { invalid } from '../../errors.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { IdParams, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import { accepted, Operation, prefersAsync } from '../operations/operation.ts';
import { bulkInvite, checkOpenInvitations } from './invitation.bulk.ts';
import { startBulkInvite } from './invitation.operation.ts';
import * as schemas from './invitation.schemas.ts';
import * as service from './invitation.service.ts';
import { createAndMaybeSend, sendInvitation, sendInvitations } from './send.service.ts';

const tags = ['Invitations'];
/** 10,000 ids are about 400 KB of JSON. */
const LIST_BODY_LIMIT = 1024 * 1024;
/** Room for MAX_BULK_IDS ids as JSON. */
const BULK_BODY_LIMIT = 5 * 1024 * 1024;

export async function invitationRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.post(
    '/invitations',
    {
      schema: {
        tags,
        summary:
          'Create an invitation (and send it with send: true); the answer holds its code and redemption URL',
        body: schemas.CreateInvitationWithSend,
        response: { 201: schemas.CreatedInvitation, ...problems(400, 409) },
      },
    },
    async (req, reply) => {
      const { send: alsoSend, ...input } = req.body;
      return reply.status(201).send(await createAndMaybeSend(deps, actorOf(req), input, alsoSend === true));
    },
  );
  app.post(
    '/invitations/bulk',
    {
      bodyLimit: BULK_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Invite these contacts: one Single invitation each, created (and sent) in one call',
        description: `With up to ${schemas.SYNC_BULK_IDS} contactIds: 201 with a result per contact. With more, with \`matching\` (every contact matching a search), or with \`Prefer: respond-async\`: 202 with a bulk operation (and its Location), followed with GET /operations/{id}.`,
        body: schemas.BulkInvite,
        response: { 201: schemas.BulkResult, 202: Operation, ...problems(400, 409) },
      },
    },
    async (req, reply) => {
      const { contactIds, matching, ...options } = req.body;
      if ((contactIds === undefined) === (matching === undefined))
        throw invalid('', 'Give either contactIds or matching.');
      if (matching || prefersAsync(req) || (contactIds?.length ?? 0) > schemas.SYNC_BULK_IDS) {
        const source = matching ? { matching } : { contactIds: contactIds ?? [] };
        return accepted(reply, await startBulkInvite(deps, actorOf(req), options, source));
      }
      return reply
        .status(201)
        .send(await bulkInvite(deps, actorOf(req), { ...options, contactIds: contactIds ?? [] }));
    },
  );
  app.post(
    '/invitations/bulk/check',
    {
      bodyLimit: BULK_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Which of these contacts already hold an open invitation to the website (changes nothing)',
        description:
          'Give contactIds or matching, as for POST /invitations/bulk. Open: new or sent, naming the contact, not yet redeemed by it. Use the answer to warn before inviting, and skipInvited to skip them.',
        body: schemas.CheckOpenInvitations,
        response: { 200: schemas.OpenInvitationsCheck, ...problems(400) },
      },
    },
    async (req) => {
      const { websiteId, contactIds, matching } = req.body;
      if ((contactIds === undefined) === (matching === undefined))
        throw invalid('', 'Give either contactIds or matching.');
      return checkOpenInvitations(
        deps,
        websiteId,
        contactIds ? { contactIds } : { matching: matching ?? {} },
      );
    },
  );
  app.post(
    '/invitations/bulk/csv',
    {
      bodyLimit: MAX_CSV_BYTES,
      config: { rawBody: true },
      schema: {
        tags,
        summary: 'Invite the contacts of a CSV file (text/csv) as a bulk operation; the options in the query',
        description:
          'The header names a contactId or an email column (other columns are ignored), or the import columns (firstName, lastName, email, email2, email3, parentAccountId): then a contact whose email is new is created and invited, one that exists is invited. 202 with the operation; its failures name the CSV lines.',
        querystring: schemas.BulkCsvQuery,
        response: { 202: Operation, ...problems(400, 413, 415) },
      },
    },
    async (req, reply) => {
      if (typeof req.body !== 'string')
        throw Object.assign(new Error('text/csv expected'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
      const { webRoleIds, ...options } = req.query;
      const roles = webRoleIds ? [...new Set(webRoleIds.split(','))] : undefined;
      return accepted(
        reply,
        await startBulkInvite(deps, actorOf(req), { ...options, webRoleIds: roles }, { csv: req.body }),
      );
    },
  );
  app.post(
    '/invitations/send',
    {
      bodyLimit: LIST_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Send invitations (202: queued); one result per invitation',
        body: schemas.SendMany,
        response: { 202: schemas.SendResults, ...problems(400, 409) },
      },
    },
    async (req, reply) =>
      reply.status(202).send({ items: await sendInvitations(deps, actorOf(req), req.body.ids) }),
  );
  app.post(
    '/invitations/:id/send',
    {
      schema: {
        tags,
        summary: 'Send (or resend, with the same code) an invitation to its invited contacts',
        params: IdParams,
        response: { 202: schemas.SendItem, ...problems(404, 409) },
      },
    },
    async (req, reply) => reply.status(202).send(await sendInvitation(deps, actorOf(req), req.params.id)),
  );
  app.get(
    '/invitations',
    {
      schema: {
        tags,
        summary: 'List invitations by derived status, website, contact (invited or redeemed) or name',
        querystring: schemas.ListInvitationsQuery,
        response: { 200: PageOf(schemas.Invitation), ...problems(400) },
      },
    },
    async (req) => service.listInvitations(deps, { ...req.query, limit: req.query.limit ?? 50 }),
  );
  app.get(
    '/invitations/export',
    {
      schema: {
        tags,
        summary: 'Export the invitations a list would show as CSV (text/csv; never a code)',
        description:
          'The same filters as GET /invitations, every page. Cells a spreadsheet would run as a formula are prefixed with an apostrophe.',
        querystring: Type.Omit(schemas.ListInvitationsQuery, ['limit', 'cursor']),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problems(400) },
      },
    },
    async (req, reply) => {
      const lines = csvExport(
        [
          'id',
          'name',
          'type',
          'websiteId',
          'status',
          'statusReason',
          'state',
          'redemptionCount',
          'maxRedemptions',
          'invitedContactIds',
          'redeemedContactIds',
          'ownerId',
          'expiresAt',
          'lastSentAt',
          'createdAt',
        ],
        (cursor) => service.listInvitations(deps, { ...req.query, limit: 500, cursor }),
        (i) => [
          i.id,
          i.name,
          i.type,
          i.websiteId,
          i.status,
          i.statusReason,
          i.state,
          i.redemptionCount,
          i.maxRedemptions,
          i.invitedContactIds,
          i.redeemedContactIds,
          i.ownerId,
          i.expiresAt,
          i.lastSentAt,
          i.createdAt,
        ],
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="invitations.csv"')
        .send(Readable.from(lines) as unknown as string); // a stream goes out as it is, page by page
    },
  );
  app.get(
    '/invitations/:id',
    {
      schema: {
        tags,
        summary: 'Read an invitation (never its code), with its owner and inviter named',
        params: IdParams,
        response: { 200: schemas.InvitationDetail, ...problems(404) },
      },
    },
    async (req) => service.getInvitationDetail(deps, req.params.id),
  );
  app.patch(
    '/invitations/:id',
    {
      schema: {
        tags,
        summary: 'Edit an invitation',
        params: IdParams,
        body: schemas.UpdateInvitation,
        response: { 200: schemas.Invitation, ...problems(400, 404) },
      },
    },
    async (req) => service.updateInvitation(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/invitations/:id',
    {
      schema: {
        tags,
        summary: 'Delete an invitation that was never redeemed',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteInvitation(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/invitations/:id/code',
    {
      schema: {
        tags,
        summary: 'Reveal the code (audited)',
        params: IdParams,
        response: { 200: schemas.Code, ...problems(404) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return service.revealCode(deps, actorOf(req), req.params.id);
    },
  );
  app.post(
    '/invitations/:id/regenerate-code',
    {
      schema: {
        tags,
        summary: 'Replace the code; every earlier code stops working',
        params: IdParams,
        response: { 200: schemas.InvitationWithCode, ...problems(404) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return service.regenerateCode(deps, actorOf(req), req.params.id);
    },
  );
  app.post(
    '/invitations/:id/deactivate',
    {
      schema: {
        tags,
        summary: 'Deactivate: no redemption succeeds after this',
        params: IdParams,
        response: { 200: schemas.Invitation, ...problems(404) },
      },
    },
    async (req) => service.deactivateInvitation(deps, actorOf(req), req.params.id),
  );
  app.post(
    '/invitations/:id/activate',
    {
      schema: {
        tags,
        summary: 'Activate again',
        params: IdParams,
        response: { 200: schemas.Invitation, ...problems(404) },
      },
    },
    async (req) => service.activateInvitation(deps, actorOf(req), req.params.id),
  );
  app.get(
    '/invitations/:id/redemptions',
    {
      schema: {
        tags,
        summary: 'Invite Redemption activities of an invitation',
        params: IdParams,
        querystring: Type.Object(ListQuery),
        response: { 200: PageOf(schemas.InviteRedemption), ...problems(400, 404) },
      },
    },
    async (req) =>
      service.listRedemptions(deps, req.params.id, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );
}
