import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import fc from 'fast-check';
import { type Json, makeAccount, makeSingle, makeWebRole, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

/**
 * The API under generated requests, operation by operation of its own OpenAPI document: requests
 * built from each operation's schemas (valid ones, and ones with a hostile value put in), asserting
 * no 5xx, a status the document declares, problem+json for errors and JSON for successes, a body
 * that matches the declared schema, and nothing changed in the database by a refused request.
 * Seeded (ADMIT_FUZZ_SEED, default below): fast-check prints the seed and the counterexample of a
 * failure, and the same seed replays it.
 */
const SEED = Number(process.env.ADMIT_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.ADMIT_FUZZ_RUNS ?? 12);

const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (
  ajv: Ajv,
) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: false }));

type Schema = Json;
type Op = { method: string; path: string; op: Json };

/** Values the API must refuse or handle, never crash on. */
const HOSTILE: unknown[] = [
  'a\u0000b',
  '\ud800',
  'x'.repeat(5000),
  "' or 1=1 --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '\r\nBcc: x@example.test',
  -1,
  1e308,
  3.5,
  [],
  {},
  null,
  true,
  '',
];

/** Tables a refused request must leave as they were (count and last change). */
const WATCHED = [
  'websites',
  'web_roles',
  'web_pages',
  'accounts',
  'contacts',
  'invitations',
  'emails',
  'users',
  'api_keys',
  'workflows',
  'email_templates',
  'audit_events',
  'jobs',
] as const;

onBothDatabases('the API under generated requests', (dialect) => {
  let h: Harness;
  let doc: Json;
  const fixtures: Record<string, string[]> = {};
  before(async () => {
    h = await startHarness(dialect);
    doc = ok<Json>(await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' }));
    const { website, contact, invitation } = await makeSingle(h);
    const role = await makeWebRole(h, website.id, 'Fuzzed');
    const account = await makeAccount(h, 'Fuzz Account');
    const page = ok<Json>(
      await h.api('POST', `/api/v1/websites/${website.id}/web-pages`, {
        path: 'docs',
        title: 'Docs',
        content: 'x',
      }),
      201,
    );
    const user = ok<Json>(
      await h.api('POST', '/api/v1/users', {
        email: 'fuzz.user@example.test',
        name: 'Fuzz User',
        role: 'operator',
      }),
      201,
    );
    const key = ok<Json>(await h.api('POST', '/api/v1/api-keys', { name: 'fuzz key' }), 201);
    const provider = ok<Json>(
      await h.api('POST', `/api/v1/websites/${website.id}/identity-providers`, {
        displayName: 'Fuzz IdP',
        issuer: 'https://idp.fuzz.example',
        clientId: 'fuzz',
        clientSecret: 'fuzz-secret',
      }),
      201,
    );
    const workflows = ok<Json>(await h.api('GET', '/api/v1/workflows')).items as Json[];
    const templates = ok<Json>(await h.api('GET', '/api/v1/email-templates')).items as Json[];
    Object.assign(fixtures, {
      websites: [website.id],
      'web-roles': [role.id],
      'web-pages': [page.id],
      accounts: [account.id],
      contacts: [contact.id],
      invitations: [invitation.id],
      users: [user.id],
      'api-keys': [key.id],
      'identity-providers': [provider.id],
      workflows: workflows.map((w) => w.id),
      'email-templates': templates.map((t) => t.id),
    });
  });
  after(() => h.close());

  const resolve = (s: Schema): Schema => {
    const ref = s.$ref as string | undefined;
    if (!ref) return s;
    const name = ref.split('/').pop() as string;
    return (doc.components.schemas as Record<string, Schema>)[name] as Schema;
  };

  /** An arbitrary of values that satisfy `schema` (as far as a generator can know). */
  function valid(schemaIn: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = resolve(schemaIn);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (alternatives) return fc.oneof(...alternatives.map((a) => valid(a, depth)));
    if (Array.isArray(schema.type))
      return fc.oneof(...(schema.type as string[]).map((t) => valid({ ...schema, type: t }, depth)));
    switch (schema.type) {
      case 'string':
        return validString(schema);
      case 'integer':
        return fc.integer({
          min: (schema.minimum as number | undefined) ?? -10,
          max: Math.min((schema.maximum as number | undefined) ?? 1000, 1000),
        });
      case 'number':
        return fc.double({
          min: (schema.minimum as number) ?? -10,
          max: (schema.maximum as number) ?? 1000,
          noNaN: true,
        });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return depth > 3
          ? fc.constant([])
          : fc.array(valid((schema.items as Schema) ?? {}, depth + 1), {
              minLength: (schema.minItems as number | undefined) ?? 0,
              maxLength: Math.max(
                (schema.minItems as number | undefined) ?? 0,
                Math.min((schema.maxItems as number) ?? 3, 3),
              ),
            });
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        if (depth > 3 || Object.keys(props).length === 0) return fc.constant({});
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(props)) record[k] = valid(v, depth + 1);
        return fc.record(record, { requiredKeys: (schema.required as string[] | undefined) ?? [] });
      }
      default:
        return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean());
    }
  }

  function validString(schema: Schema): fc.Arbitrary<string> {
    const min = (schema.minLength as number | undefined) ?? 0;
    const max = Math.max(min, Math.min((schema.maxLength as number | undefined) ?? 40, 40));
    switch (schema.format) {
      case 'uuid':
        return fc.oneof(fc.constantFrom(...Object.values(fixtures).flat()), fc.uuid({ version: 7 }));
      case 'email':
        return fc.emailAddress().filter((e) => e.length <= max || max === 40);
      case 'date-time':
        return fc
          .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      case 'date':
        return fc
          .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      case 'uri':
        return fc.webUrl();
    }
    if (typeof schema.pattern === 'string') {
      const re = new RegExp(schema.pattern as string);
      const fits = (v: string) =>
        v.length >= min && v.length <= ((schema.maxLength as number | undefined) ?? 200);
      try {
        return fc.stringMatching(re).filter(fits);
      } catch {
        // A pattern fast-check cannot generate from (a lookahead): strings that happen to match.
        return fc
          .string({ minLength: min, maxLength: max, unit: 'grapheme' })
          .filter((v) => re.test(v) && fits(v));
      }
    }
    return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
  }

  /** A valid body with one hostile change: a field's value, an unknown field, or the whole body. */
  function invalidBody(schemaIn: Schema): fc.Arbitrary<unknown> {
    const schema = resolve(schemaIn);
    const hostile = fc.constantFrom(...HOSTILE);
    const props = Object.keys((schema.properties ?? {}) as Json);
    const variants: fc.Arbitrary<unknown>[] = [
      hostile.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      valid(schema).map((b) => ({ ...(b as Json), unknownField: 1 })),
    ];
    if (props.length > 0)
      variants.push(
        fc
          .tuple(valid(schema), fc.constantFrom(...props), hostile)
          .map(([b, k, v]) => ({ ...(b as Json), [k]: v })),
      );
    return fc.oneof(...variants);
  }

  const operations = (): Op[] =>
    Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => method !== 'head')
        // Signing the console in and out and changing its password act on a console session,
        // which these requests (with an API key) do not have; they are tested in session.test.ts.
        .filter(([method, op]) => !(path.startsWith('/api/v1/session') && method !== 'get') && op)
        .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );

  function pathArb({ path }: Op, hostile: boolean): fc.Arbitrary<string> {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
    if (names.length === 0) return fc.constant(path);
    const idFor = (name: string) => {
      const resource = name === 'websiteId' ? 'websites' : (path.split('/')[3] as string);
      const known = fixtures[resource] ?? [];
      const choices: fc.Arbitrary<string>[] = [fc.uuid({ version: 7 })];
      if (known.length > 0) choices.unshift(fc.constantFrom(...known));
      if (hostile) choices.push(fc.constantFrom('not-a-uuid', '%00', '1', "'", 'x'.repeat(120)));
      return fc.oneof(...choices);
    };
    return fc
      .tuple(...names.map(idFor))
      .map((ids) => names.reduce((p, n, i) => p.replace(`{${n}}`, ids[i] as string), path));
  }

  function queryArb({ op }: Op, hostile: boolean): fc.Arbitrary<string> {
    const params = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'query');
    if (params.length === 0) return fc.constant('');
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const p of params) {
      const value = valid(p.schema as Schema);
      record[p.name as string] = hostile
        ? fc.oneof(value, fc.constantFrom('\u0000', 'abc', '-1', 'x'.repeat(300), '%', "'"))
        : value;
    }
    return fc.record(record, { requiredKeys: [] }).map((q) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined) search.set(k, String(v));
      const s = search.toString();
      return s ? `?${s}` : '';
    });
  }

  const statuses = new Map<number, number>();
  const validators = new Map<string, ValidateFunction>();
  function validatorFor(key: string, schema: Schema): ValidateFunction {
    let v = validators.get(key);
    if (!v) {
      v = ajv.compile({ ...schema, components: doc.components });
      validators.set(key, v);
    }
    return v;
  }

  async function digest(): Promise<string> {
    const parts: string[] = [];
    for (const t of WATCHED) {
      const r = await h.deps.db
        .selectFrom(t)
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('updated_at' as never).as('u')])
        .executeTakeFirstOrThrow()
        .catch(async () =>
          h.deps.db
            .selectFrom(t)
            .select((eb) => [eb.fn.countAll().as('n')])
            .executeTakeFirstOrThrow(),
        );
      parts.push(`${t}:${JSON.stringify(r)}`);
    }
    return parts.join(' ');
  }

  async function check(o: Op, url: string, body: unknown, hostile: boolean): Promise<void> {
    const before = hostile ? await digest() : '';
    const hasBody = Boolean(o.op.requestBody) && body !== undefined;
    const res = await h.app.inject({
      method: o.method as 'GET',
      url,
      headers: {
        authorization: `Bearer ${h.apiKey}`,
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(hasBody ? { payload: JSON.stringify(body) } : {}),
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const where = `${o.method} ${url} ${hasBody ? JSON.stringify(body).slice(0, 200) : ''} → ${res.statusCode} ${res.body.slice(0, 300)}`;
    assert.ok(res.statusCode < 500, `no 5xx: ${where}`);
    const declared = (o.op.responses ?? {}) as Record<string, Json>;
    const response = declared[String(res.statusCode)];
    assert.ok(response, `status declared in the OpenAPI document: ${where}`);
    const type = String(res.headers['content-type'] ?? '');
    if (res.statusCode >= 400) {
      assert.match(type, /^application\/problem\+json/, `problem+json: ${where}`);
    } else if (res.statusCode !== 204 && response.content) {
      const [mediaType] = Object.keys(response.content as Json);
      assert.ok(type.startsWith(mediaType as string), `${mediaType}: ${where}`);
    }
    const schema = (response.content as Record<string, Json> | undefined)?.[
      res.statusCode >= 400 ? 'application/problem+json' : 'application/json'
    ]?.schema as Schema | undefined;
    if (schema && res.body.length > 0) {
      const validate = validatorFor(`${o.method} ${o.path} ${res.statusCode}`, schema);
      assert.ok(
        validate(res.json()),
        `body matches its schema (${ajv.errorsText(validate.errors)}): ${where}`,
      );
    }
    if (hostile && res.statusCode >= 400)
      assert.equal(await digest(), before, `a refused request changes nothing: ${where}`);
  }

  it('every operation: valid requests and hostile ones, no 5xx, as documented, refusals change nothing', async (t) => {
    const ops = operations();
    assert.ok(ops.length > 50, `${ops.length} operations`);
    for (const o of ops) {
      const bodySchema = (o.op.requestBody as Json | undefined)?.content?.['application/json']?.schema as
        | Schema
        | undefined;
      const noBody = fc.constant(undefined);
      await fc.assert(
        fc.asyncProperty(
          pathArb(o, false),
          queryArb(o, false),
          bodySchema ? valid(bodySchema) : noBody,
          (path, query, body) => check(o, path + query, body, false),
        ),
        { seed: SEED, numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(
          pathArb(o, true),
          queryArb(o, true),
          bodySchema ? invalidBody(bodySchema) : noBody,
          (path, query, body) => check(o, path + query, body, true),
        ),
        { seed: SEED + 1, numRuns: RUNS },
      );
    }
    const answered = [...statuses].sort(([a], [b]) => a - b);
    t.diagnostic(
      `${ops.length} operations, seed ${SEED}: ${answered.map(([s, n]) => `${s}×${n}`).join(' ')}`,
    );
    assert.ok(
      answered.some(([s]) => s >= 200 && s < 300),
      'some generated requests succeed',
    );
  });

  it('logged no 500', () => {
    assert.ok(!h.logs().includes('"statusCode":500'), 'a request ended in 500');
  });
});
