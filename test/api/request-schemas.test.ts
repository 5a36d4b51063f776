import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Ajv } from 'ajv';
import formatsModule from 'ajv-formats';
import { type Json, ok, problem } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (
  a: Ajv,
) => Ajv;
const ajv = addFormats(new Ajv({ strict: false }));

/** Body fields whose text may span lines (Liquid and HTML sources, page content). */
const MULTILINE = new Set(['html', 'text', 'content']);
const CONTROL = ['a\rb', 'a\nb', 'a\u0000b', 'a\tb', 'a\u0085b', 'a\u009fb', 'a\u2028b'];

/**
 * Every request body the API accepts, walked from the OpenAPI document: its objects refuse unknown
 * fields, and its single-line strings refuse control characters (C0, C1, line separators).
 */
function walk(schema: Json, path: string, problems: string[], refs: Json) {
  if (schema.$ref) return walk(refs[String(schema.$ref).split('/').pop() as string], path, problems, refs);
  for (const key of ['anyOf', 'oneOf', 'allOf'])
    for (const [i, s] of ((schema[key] as Json[] | undefined) ?? []).entries())
      walk(s, `${path}|${i}`, problems, refs);
  if (schema.type === 'object' || schema.properties) {
    if (schema.additionalProperties !== false) problems.push(`${path}: unknown fields are not refused`);
    for (const [name, s] of Object.entries((schema.properties ?? {}) as Record<string, Json>))
      walk(s, `${path}/${name}`, problems, refs);
  }
  if (schema.type === 'array' && schema.items) walk(schema.items, `${path}/*`, problems, refs);
  if (schema.type === 'string' && !MULTILINE.has(path.split('/').pop() as string)) {
    const check = ajv.compile(schema);
    for (const v of CONTROL) if (check(v)) problems.push(`${path}: accepts ${JSON.stringify(v)}`);
  }
}

onBothDatabases('request bodies', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('every JSON body refuses unknown fields, and every single-line string refuses control characters', async () => {
    const doc = ok<Json>(await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' }));
    const problems: string[] = [];
    let bodies = 0;
    for (const [route, methods] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(methods as Record<string, Json>)) {
        const schema = op.requestBody?.content?.['application/json']?.schema;
        if (!schema) continue;
        bodies++;
        walk(schema, `${method} ${route}`, problems, doc.components?.schemas ?? {});
      }
    }
    assert.ok(bodies > 20, `${bodies} bodies walked`);
    assert.deepEqual(problems, []);
  });

  it('a control character is refused with a 400 that names the field, and changes nothing', async () => {
    const site = ok<Json>(
      await h.api('POST', '/api/v1/websites', { name: 'Clean', slug: `clean-${Date.now()}` }),
      201,
    );
    const cases: [string, string, Json, string][] = [
      ['POST', '/api/v1/contacts', { firstName: 'Ada\r\nBcc: x@evil.test', lastName: 'L' }, '/firstName'],
      ['POST', '/api/v1/contacts', { firstName: 'Ada', lastName: 'L\u0085' }, '/lastName'],
      ['PATCH', `/api/v1/websites/${site.id}`, { name: 'Clean\nPortal' }, '/name'],
      ['POST', '/api/v1/accounts', { name: 'Acme\u0000' }, '/name'],
      [
        'POST',
        '/api/v1/invitations',
        { type: 'group', websiteId: site.id, maxRedemptions: 2, name: 'G\u2028' },
        '/name',
      ],
      ['POST', `/api/v1/invitations/send`, { ids: [site.id], extra: true }, '/extra'],
    ];
    // Actions that take no body refuse one with fields, rather than ignore them.
    const inv = ok<Json>(
      await h.api('POST', '/api/v1/invitations', { type: 'group', websiteId: site.id, maxRedemptions: 2 }),
      201,
    );
    cases.push(
      ['POST', `/api/v1/invitations/${inv.id}/send`, { force: true }, '/force'],
      ['POST', `/api/v1/invitations/${inv.id}/deactivate`, { reason: 'x' }, '/reason'],
      ['POST', `/api/v1/invitations/${inv.id}/regenerate-code`, { code: 'MINE' }, '/code'],
    );
    for (const [method, url, body, field] of cases) {
      const p = problem(await h.api(method as 'POST', url, body), 400, 'VALIDATION_FAILED');
      assert.ok(
        p.errors?.some((e) => e.path === field),
        `${method} ${url}: ${JSON.stringify(p.errors)}`,
      );
    }
    assert.equal(ok<Json>(await h.api('GET', `/api/v1/websites/${site.id}`)).name, 'Clean');
    const after = ok<Json>(await h.api('GET', `/api/v1/invitations/${inv.id}`));
    assert.deepEqual(
      [after.state, after.lastSentAt],
      ['active', null],
      'the refused actions changed nothing',
    );
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/deactivate`));
    ok(await h.api('POST', `/api/v1/invitations/${inv.id}/activate`, {}), 200);
  });

  it('the CSV import refuses control characters in a line, naming the line and the field', async () => {
    const csv =
      'firstName,lastName,email\n"Ada\u0085",Lovelace,ada.c1@example.test\nGrace,Hopper,grace.c1@example.test\n';
    const report = ok<Json>(
      await h.api('POST', '/api/v1/contacts/import', csv, { 'content-type': 'text/csv' }),
    );
    assert.equal(report.created, 1);
    const failed = report.lines.find((l: Json) => l.status === 'failed');
    assert.equal(failed.line, 2);
    assert.deepEqual(
      failed.errors.map((e: Json) => e.path),
      ['/firstName'],
    );
  });
});
