import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Json, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

onBothDatabases('health, readiness and API documentation', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('answers liveness and readiness without authentication', async () => {
    assert.deepEqual(ok(await h.app.inject({ method: 'GET', url: '/healthz' })), { status: 'ok' });
    assert.deepEqual(ok(await h.app.inject({ method: 'GET', url: '/readyz' })), { status: 'ready' });
  });

  it('publishes an OpenAPI 3.1 document where every operation has responses and errors', async () => {
    const doc = ok<Json>(await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' }));
    assert.equal(doc.openapi, '3.1.0');
    const expected = [
      'post /api/v1/websites',
      'get /api/v1/websites',
      'get /api/v1/websites/{id}',
      'patch /api/v1/websites/{id}',
      'post /api/v1/websites/{id}/web-roles',
      'get /api/v1/websites/{id}/web-roles',
      'patch /api/v1/web-roles/{id}',
      'delete /api/v1/web-roles/{id}',
      'post /api/v1/websites/{id}/web-pages',
      'get /api/v1/websites/{id}/web-pages',
      'get /api/v1/web-pages/{id}',
      'patch /api/v1/web-pages/{id}',
      'delete /api/v1/web-pages/{id}',
      'post /api/v1/accounts',
      'get /api/v1/accounts',
      'get /api/v1/accounts/{id}',
      'patch /api/v1/accounts/{id}',
      'delete /api/v1/accounts/{id}',
      'post /api/v1/contacts',
      'get /api/v1/contacts',
      'get /api/v1/contacts/{id}',
      'patch /api/v1/contacts/{id}',
      'delete /api/v1/contacts/{id}',
      'post /api/v1/contacts/import',
      'get /api/v1/contacts/export',
      'get /api/v1/contacts/{id}/websites',
      'post /api/v1/contacts/{id}/websites',
      'delete /api/v1/contacts/{id}/websites/{websiteId}',
      'delete /api/v1/contacts/{id}/external-logins/{loginId}',
      'post /api/v1/websites/{id}/identity-providers',
      'get /api/v1/websites/{id}/identity-providers',
      'get /api/v1/identity-providers/{id}',
      'patch /api/v1/identity-providers/{id}',
      'delete /api/v1/identity-providers/{id}',
      'post /api/v1/invitations',
      'get /api/v1/invitations',
      'get /api/v1/invitations/export',
      'get /api/v1/invitations/{id}',
      'patch /api/v1/invitations/{id}',
      'delete /api/v1/invitations/{id}',
      'get /api/v1/invitations/{id}/code',
      'post /api/v1/invitations/{id}/regenerate-code',
      'post /api/v1/invitations/{id}/deactivate',
      'post /api/v1/invitations/{id}/activate',
      'get /api/v1/invitations/{id}/redemptions',
      'get /api/v1/audit-events',
      'post /api/v1/invitations/bulk',
      'post /api/v1/invitations/send',
      'post /api/v1/invitations/{id}/send',
      'get /api/v1/emails',
      'get /api/v1/emails/{id}',
      'post /api/v1/emails/{id}/retry',
      'get /api/v1/mail/status',
      'post /api/v1/mail/resume',
      'get /api/v1/workflows',
      'get /api/v1/workflows/{id}',
      'patch /api/v1/workflows/{id}',
      'post /api/v1/workflows/{id}/activate',
      'post /api/v1/workflows/{id}/deactivate',
      'get /api/v1/email-templates',
      'get /api/v1/email-templates/{id}',
      'put /api/v1/email-templates/{id}',
      'post /api/v1/email-templates/{id}/preview',
      'get /api/v1/users',
      'post /api/v1/users',
      'post /api/v1/users/{id}/invite',
      'patch /api/v1/users/{id}',
      'get /api/v1/api-keys',
      'post /api/v1/api-keys',
      'delete /api/v1/api-keys/{id}',
      'post /api/v1/session',
      'get /api/v1/session',
      'get /api/v1/stats/invitations',
      'get /api/v1/jobs/status',
      'get /api/v1/operations',
      'get /api/v1/operations/{id}',
      'get /api/v1/operations/{id}/failures',
      'post /api/v1/invitations/bulk/csv',
      'post /api/v1/invitations/bulk/check',
      'get /api/v1/redemptions',
      'get /api/v1/redemptions/export',
      'get /api/v1/contacts/count',
      'delete /api/v1/session',
      'post /api/v1/session/password',
      'post /api/v1/session/forgot-password',
      'post /api/v1/session/link',
      'post /api/v1/session/set-password',
      'post /api/v1/workflows',
      'post /api/v1/email-templates',
      'delete /api/v1/workflows/{id}',
      'get /api/v1/workflows/{id}/versions',
      'get /api/v1/workflows/{id}/signing-secret',
      'get /api/v1/workflow-runs',
      'post /api/v1/workflow-runs',
      'get /api/v1/workflow-runs/{id}',
      'post /api/v1/workflow-runs/{id}/retry',
      'post /api/v1/workflow-runs/{id}/cancel',
      'post /api/v1/webhook-endpoints',
      'get /api/v1/webhook-endpoints',
      'get /api/v1/webhook-endpoints/{id}',
      'patch /api/v1/webhook-endpoints/{id}',
      'delete /api/v1/webhook-endpoints/{id}',
      'post /api/v1/webhook-endpoints/{id}/rotate-secret',
      'post /api/v1/webhook-endpoints/{id}/test',
      'get /api/v1/webhook-endpoints/{id}/deliveries',
      'post /api/v1/webhook-deliveries/{id}/replay',
    ];
    // Every integrator event is documented under `webhooks`, with the payload it carries.
    for (const type of [
      'invitation.created',
      'invitation.sent',
      'invitation.redeemed',
      'invitation.deactivated',
      'invitation.activated',
      'invitation.code_regenerated',
      'email.failed',
      'contact.registered',
      'workflow_run.failed',
    ]) {
      const body = doc.webhooks?.[type]?.post?.requestBody?.content?.['application/json']?.schema;
      assert.equal(body?.properties?.type?.const, type, `webhooks documents ${type}`);
      assert.ok(Object.keys(body.properties.data.properties).length > 0, `${type} documents its data`);
    }
    const actual = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    assert.deepEqual([...actual].sort(), [...expected].sort());
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(ops as Record<string, Json>)) {
        const codes = Object.keys(op.responses ?? {});
        assert.ok(
          codes.some((c) => c.startsWith('2')),
          `${method} ${path} documents its success`,
        );
        assert.ok(op.summary, `${method} ${path} has a summary`);
        for (const [code, response] of Object.entries(op.responses as Record<string, Json>)) {
          if (Number(code) < 400) continue;
          assert.deepEqual(
            Object.keys(response.content),
            ['application/problem+json'],
            `${method} ${path} ${code} is problem+json`,
          );
        }
        const required = ['400', '414', '500', '503', ...(op.requestBody ? ['413', '415'] : [])];
        for (const code of required) assert.ok(codes.includes(code), `${method} ${path} declares ${code}`);
      }
    }
    assert.ok(doc.components.schemas.Problem);
    assert.ok(doc.components.responses.MethodNotAllowed.headers.Allow, '405 with Allow is described');
    assert.ok(doc.components.responses.NotFound);
    const docs = await h.app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  it('answers unknown routes with problem+json', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/nope' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'NOT_FOUND');
  });
});
