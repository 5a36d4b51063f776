import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Deps } from '../../context.ts';
import { csvExport, MAX_CSV_BYTES } from '../../csv.ts';
import type { ApiApp } from '../../http/api.ts';
import { actorOf } from '../../http/auth.ts';
import { Id, IdParams, ListQuery, PageOf, problems } from '../../http/schemas.ts';
import { accepted, Operation, prefersAsync } from '../operations/operation.ts';
import { importContactsCsv, SYNC_IMPORT_LINES } from './contact.import.ts';
import * as schemas from './contact.schemas.ts';
import * as service from './contact.service.ts';
import { removeExternalLogin } from './external-login.service.ts';
import * as access from './website-access.service.ts';

const tags = ['Contacts'];

const ContactFilters = {
  search: Type.Optional(Type.String({ maxLength: 200 })),
  accountId: Type.Optional(Id),
};

const Sort = Type.Optional(
  Type.Union([Type.Literal('newest'), Type.Literal('oldest'), Type.Literal('name')], {
    description: 'newest first (the default), oldest first, or by last name then first name',
  }),
);

export async function contactRoutes(app: ApiApp, deps: Deps): Promise<void> {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_CSV_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'Create a contact',
        body: schemas.CreateContact,
        response: { 201: schemas.Contact, ...problems(400, 409) },
      },
    },
    async (req, reply) => reply.status(201).send(await service.createContact(deps, actorOf(req), req.body)),
  );
  app.get(
    '/contacts',
    {
      schema: {
        tags,
        summary: 'List or search contacts (name or primary email), or those of an account',
        querystring: Type.Object({ ...ListQuery, ...ContactFilters, sort: Sort }),
        response: { 200: PageOf(schemas.Contact), ...problems(400) },
      },
    },
    async (req) =>
      service.listContacts(deps, {
        search: req.query.search,
        accountId: req.query.accountId,
        sort: req.query.sort,
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );
  app.get(
    '/contacts/count',
    {
      schema: {
        tags,
        summary: 'How many contacts a list with these filters holds, over all its pages',
        querystring: Type.Object(ContactFilters),
        response: { 200: Type.Object({ count: Type.Integer() }), ...problems(400) },
      },
    },
    async (req) => ({ count: await service.countContacts(deps, req.query) }),
  );
  app.get(
    '/contacts/:id',
    {
      schema: {
        tags,
        summary: 'Read a contact',
        params: IdParams,
        response: { 200: schemas.Contact, ...problems(404) },
      },
    },
    async (req) => service.getContact(deps, req.params.id),
  );
  app.patch(
    '/contacts/:id',
    {
      schema: {
        tags,
        summary: 'Edit a contact',
        params: IdParams,
        body: schemas.UpdateContact,
        response: { 200: schemas.Contact, ...problems(400, 404, 409) },
      },
    },
    async (req) => service.updateContact(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    '/contacts/:id',
    {
      schema: {
        tags,
        summary: 'Delete a contact no invitation refers to',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(404, 409) },
      },
    },
    async (req, reply) => {
      await service.deleteContact(deps, actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/contacts/export',
    {
      schema: {
        tags,
        summary: 'Export contacts (all, or those a search or account finds) as CSV (text/csv)',
        description:
          'Columns as the import reads them, and more. Cells a spreadsheet would run as a formula are prefixed with an apostrophe.',
        querystring: Type.Object({ ...ContactFilters, sort: Sort }, { additionalProperties: false }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problems(400) },
      },
    },
    async (req, reply) => {
      const lines = csvExport(
        [
          'id',
          'firstName',
          'lastName',
          'email',
          'email2',
          'email3',
          'parentAccountId',
          'username',
          'loginEnabled',
          'emailConfirmed',
          'webRoleIds',
          'lastSignInAt',
          'createdAt',
        ],
        (cursor) => service.listContacts(deps, { ...req.query, limit: 500, cursor }),
        (c) => [
          c.id,
          c.firstName,
          c.lastName,
          c.email,
          c.email2,
          c.email3,
          c.parentAccountId,
          c.username,
          c.loginEnabled,
          c.emailConfirmed,
          c.webRoleIds,
          c.lastSignInAt,
          c.createdAt,
        ],
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="contacts.csv"')
        .send(Readable.from(lines) as unknown as string); // a stream goes out as it is, page by page
    },
  );
  app.post(
    '/contacts/import',
    {
      bodyLimit: MAX_CSV_BYTES,
      config: { rawBody: true },
      schema: {
        tags,
        summary: 'Import contacts from CSV (text/csv); reports each line, or 202 with a bulk operation',
        description: `Columns: firstName, lastName, email, email2, email3, parentAccountId. Lines whose email already exists are skipped. A file of more than ${SYNC_IMPORT_LINES} lines, or a request with \`Prefer: respond-async\`, is imported as a bulk operation: 202 with the operation (and its Location), followed with GET /operations/{id}.`,
        response: { 200: schemas.ImportReport, 202: Operation, ...problems(400, 413, 415) },
      },
    },
    async (req, reply) => {
      if (typeof req.body !== 'string')
        throw Object.assign(new Error('text/csv expected'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
      const done = await importContactsCsv(deps, actorOf(req), req.body, { async: prefersAsync(req) });
      return 'operation' in done ? accepted(reply, done.operation) : done.report;
    },
  );
  app.get(
    '/contacts/:id/websites',
    {
      schema: {
        tags,
        summary: "A contact's portal access: the websites where its credentials work",
        params: IdParams,
        response: { 200: PageOf(schemas.WebsiteAccess), ...problems(404) },
      },
    },
    async (req) => ({ items: await access.listWebsiteAccess(deps, req.params.id), nextCursor: null }),
  );
  app.post(
    '/contacts/:id/websites',
    {
      schema: {
        tags,
        summary: 'Give a contact access to a website (audited)',
        params: IdParams,
        body: schemas.GrantWebsiteAccess,
        response: { 201: schemas.WebsiteAccess, ...problems(400, 404) },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await access.grantWebsiteAccess(deps, actorOf(req), req.params.id, req.body.websiteId)),
  );
  app.delete(
    '/contacts/:id/websites/:websiteId',
    {
      schema: {
        tags,
        summary: "Remove a contact's access to a website and end its sessions there (audited)",
        params: Type.Object({ id: Id, websiteId: Id }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(404) },
      },
    },
    async (req, reply) => {
      await access.removeWebsiteAccess(deps, actorOf(req), req.params.id, req.params.websiteId);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    '/contacts/:id/external-logins/:loginId',
    {
      schema: {
        tags,
        summary: "Unlink an identity provider from a contact (audited); the contact's other ways in stay",
        description:
          'For a contact who lost the account at the provider, or before removing the provider. It may leave the contact without a way to sign in on that website.',
        params: Type.Object({ id: Id, loginId: Id }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(404) },
      },
    },
    async (req, reply) => {
      await removeExternalLogin(deps, actorOf(req), req.params.id, req.params.loginId);
      return reply.status(204).send(null);
    },
  );
}
