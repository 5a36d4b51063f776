import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { type Redeemer, redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import { workflowRunner } from '../../src/modules/workflows/run.runner.ts';
import { eventually } from '../support/eventually.ts';
import {
  type Json,
  makeAccount,
  makeContact,
  makeSingle,
  makeWebRole,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const DAY = 24 * 3600 * 1000;

/**
 * Workflows as data (versions, validation), their runs (every step type, retries, failures,
 * cancel, waits across an edit) and their triggers (redemption, by hand, an event), with a job
 * worker, mail to the outbox and a webhook receiver on loopback.
 */
onBothDatabases('workflows and their runs', (dialect) => {
  let h: Harness;
  let receiver: WebhookReceiver;
  before(async () => {
    h = await startHarness(dialect, { worker: true, env: { ADMIT_WEBHOOK_ALLOW_PRIVATE: 'true' } });
    receiver = await new WebhookReceiver().start();
  });
  after(async () => {
    await h.close();
    await receiver.stop();
  });

  const create = async (body: Json) =>
    ok<Json>(await h.api('POST', '/api/v1/workflows', { name: `Workflow ${rand()}`, ...body }), 201);
  const runOf = async (id: string) => ok<Json>(await h.api('GET', `/api/v1/workflow-runs/${id}`));
  const settled = (id: string, status: string, ms = 15_000) =>
    eventually(
      async () => {
        const r = await runOf(id);
        return r.status === status && r;
      },
      ms,
      `run ${id} ${status}`,
    );
  const runOn = async (workflowId: string, contactIds: string[]) =>
    ok<{ items: Json[] }>(await h.api('POST', '/api/v1/workflow-runs', { workflowId, contactIds }), 201)
      .items;
  const template = async () => {
    const list = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/email-templates')).items;
    return list[0] as Json;
  };
  const hookPath = () => `/hook/${rand()}`;

  it('creates, versions, lists and deletes workflows; runs keep the version they started with', async () => {
    const website = await makeWebsite(h);
    const w = await create({ websiteId: website.id, steps: [{ type: 'wait', duration: 'PT1H' }] });
    assert.deepEqual([w.version, w.active, w.key, w.websiteId], [1, true, null, website.id]);
    const edited = ok<Json>(
      await h.api('PATCH', `/api/v1/workflows/${w.id}`, {
        name: 'Renamed',
        steps: [{ type: 'wait', duration: 'P1D' }],
      }),
    );
    assert.equal(edited.version, 2);
    const versions = ok<{ items: Json[] }>(await h.api('GET', `/api/v1/workflows/${w.id}/versions`)).items;
    assert.deepEqual(
      versions.map((v) => [v.version, v.steps[0].duration]),
      [
        [2, 'P1D'],
        [1, 'PT1H'],
      ],
    );
    const listed = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows?limit=500')).items;
    assert.ok(listed.some((x) => x.id === w.id && x.name === 'Renamed'));
    assert.ok(
      listed.some((x) => x.key === 'send-invitation'),
      'the built-in one is listed too',
    );

    const unused = await create({ steps: [] });
    ok(await h.api('DELETE', `/api/v1/workflows/${unused.id}`), 204);
    ok(await h.api('GET', `/api/v1/workflows/${unused.id}`), 404);
    const contact = await makeContact(h);
    await runOn(w.id, [contact.id]);
    problem(await h.api('DELETE', `/api/v1/workflows/${w.id}`), 409, 'IN_USE');
    const builtIn = listed.find((x) => x.key === 'send-invitation') as Json;
    problem(await h.api('DELETE', `/api/v1/workflows/${builtIn.id}`), 409, 'CONFLICT');
    problem(await h.api('PATCH', `/api/v1/workflows/${builtIn.id}`, { steps: [] }), 400, 'VALIDATION_FAILED');
  });

  it('validates every step on save with a 400 naming the step, and saves nothing', async () => {
    const site = await makeWebsite(h);
    const other = await makeWebsite(h);
    const foreignRole = await makeWebRole(h, other.id);
    const missing = '01900000-0000-7000-8000-000000000000';
    const cases: [Json, string, RegExp][] = [
      [
        { steps: [{ type: 'send-email', templateId: missing }] },
        '/steps/0/templateId',
        /Step 1 \(send-email\)/,
      ],
      [
        { websiteId: site.id, steps: [{ type: 'add-web-roles', webRoleIds: [foreignRole.id] }] },
        '/steps/0/webRoleIds/0',
        /another website/,
      ],
      [
        { steps: [{ type: 'remove-web-roles', webRoleIds: [foreignRole.id] }] },
        '/websiteId',
        /limited to their website/,
      ],
      [{ steps: [{ type: 'set-parent-account', accountId: missing }] }, '/steps/0/accountId', /no account/],
      [{ steps: [{ type: 'wait', duration: 'PT0S' }] }, '/steps/0/duration', /not a duration/],
      [{ steps: [{ type: 'wait', duration: 'P2Y' }] }, '/steps/0/duration', /not a duration/],
      [
        {
          steps: [
            { type: 'wait', duration: 'PT1M' },
            { type: 'call-webhook', url: 'ftp://x.test/' },
          ],
        },
        '/steps/1/url',
        /Step 2 \(call-webhook\)/,
      ],
      [
        { steps: [{ type: 'set-contact-fields', fields: {} }] },
        '/steps/0/fields',
        /fewer than 1|must NOT have fewer/,
      ],
      [{ steps: [{ type: 'set-contact-fields', fields: { email: 'x@example.test' } }] }, '/steps/0', /./],
      [{ steps: [{ type: 'explode' }] }, '/steps/0', /./],
      [{ eventTypes: ['workflow_run.failed'], steps: [] }, '/eventTypes/0', /cannot start a workflow/],
      [{ websiteId: missing, steps: [] }, '/websiteId', /No website/],
    ];
    const before = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows?limit=500')).items.length;
    for (const [body, path, message] of cases) {
      const p = problem(
        await h.api('POST', '/api/v1/workflows', { name: `Bad ${rand()}`, ...body }),
        400,
        'VALIDATION_FAILED',
      );
      const hit = p.errors?.find((e) => e.path === path || e.path.startsWith(path));
      assert.ok(hit, `${JSON.stringify(body)} → ${JSON.stringify(p.errors)}`);
      assert.match(hit.message, message);
    }
    const after = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows?limit=500')).items.length;
    assert.equal(after, before);
  });

  it('runs every step type once, in order, logging each', async () => {
    const website = await makeWebsite(h);
    const keep = await makeWebRole(h, website.id);
    const gone = await makeWebRole(h, website.id);
    const account = await makeAccount(h);
    const path = hookPath();
    const t = await template();
    const w = await create({
      websiteId: website.id,
      steps: [
        { type: 'set-contact-fields', fields: { firstName: 'Grace', email2: 'grace.two@example.test' } },
        { type: 'add-web-roles', webRoleIds: [keep.id, gone.id] },
        { type: 'remove-web-roles', webRoleIds: [gone.id] },
        { type: 'set-parent-account', accountId: account.id },
        { type: 'send-email', templateId: t.id },
        { type: 'call-webhook', url: `${receiver.url}${path}` },
        { type: 'wait', duration: 'PT1S' },
      ],
    });
    const contact = await makeContact(h);
    const [run = {}] = await runOn(w.id, [contact.id]);
    const done = await settled(run.id, 'succeeded');
    assert.deepEqual(
      done.log.map((l: Json) => [l.stepIndex, l.stepType, l.outcome]),
      [
        [0, 'set-contact-fields', 'succeeded'],
        [1, 'add-web-roles', 'succeeded'],
        [2, 'remove-web-roles', 'succeeded'],
        [3, 'set-parent-account', 'succeeded'],
        [4, 'send-email', 'succeeded'],
        [5, 'call-webhook', 'succeeded'],
        [6, 'wait', 'waiting'],
        [null, null, 'succeeded'],
      ],
    );
    const c = ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`));
    assert.deepEqual(
      [c.firstName, c.email2, c.webRoleIds, c.parentAccountId, c.email],
      ['Grace', 'grace.two@example.test', [keep.id], account.id, contact.email],
    );
    const emails = await eventually(async () => {
      const list = ok<{ items: Json[] }>(await h.api('GET', `/api/v1/emails?contactId=${contact.id}`)).items;
      return list.length === 1 && list[0]?.status === 'sent' && list;
    });
    assert.equal(emails[0]?.to, contact.email, "to the contact's primary email only");
    const [hook] = receiver.received.filter((r) => r.path === path);
    assert.ok(hook);
    const { secret } = ok<Json>(await h.api('GET', `/api/v1/workflows/${w.id}/signing-secret`));
    const body = new Webhook(secret).verify(hook.body, {
      'webhook-id': String(hook.headers['webhook-id']),
      'webhook-timestamp': String(hook.headers['webhook-timestamp']),
      'webhook-signature': String(hook.headers['webhook-signature']),
    }) as Json;
    assert.equal(hook.headers['webhook-id'], `wfstep_${run.id}_5`);
    assert.deepEqual(
      [body.type, body.data.contact.id, body.data.stepIndex],
      ['workflow_run.step', contact.id, 5],
    );
    const audit = ok<{ items: Json[] }>(
      await h.api('GET', `/api/v1/audit-events?entityType=contact&entityId=${contact.id}`),
    ).items.filter((a) => a.data.workflowRunId === run.id);
    assert.equal(audit.length, 4, 'each contact change is audited, naming the run');
  });

  it('retries a failing step with backoff, then fails the run visibly; retry resumes at that step', async () => {
    const path = hookPath();
    receiver.answer(path, { status: 500 }, { status: 503 });
    const w = await create({
      steps: [
        { type: 'set-contact-fields', fields: { lastName: 'Hopper' } },
        { type: 'call-webhook', url: `${receiver.url}${path}` },
      ],
    });
    const contact = await makeContact(h);
    const [run = {}] = await runOn(w.id, [contact.id]);
    const done = await settled(run.id, 'succeeded');
    assert.deepEqual(
      done.log.map((l: Json) => l.outcome),
      ['succeeded', 'retrying', 'retrying', 'succeeded', 'succeeded'],
    );
    const ids = new Set(receiver.received.filter((r) => r.path === path).map((r) => r.headers['webhook-id']));
    assert.deepEqual([...ids], [`wfstep_${run.id}_1`], 'every attempt carries the same idempotency key');

    const failing = hookPath();
    receiver.answer(failing, ...Array.from({ length: 5 }, () => ({ status: 500 })));
    const w2 = await create({
      steps: [
        { type: 'set-contact-fields', fields: { lastName: 'Once' } },
        { type: 'call-webhook', url: `${receiver.url}${failing}` },
      ],
    });
    const [run2 = {}] = await runOn(w2.id, [contact.id]);
    const failed = await settled(run2.id, 'failed');
    assert.equal(failed.nextStep, 1);
    assert.equal(failed.attempts, 5);
    assert.match(failed.lastError, /Answered 500/);
    assert.match(failed.log.at(-1).message, /Failed after 5 attempts/);
    const events = await h.deps.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('type', '=', 'workflow_run.failed')
      .execute();
    assert.ok(
      events.some((e) => (typeof e.data === 'string' ? JSON.parse(e.data) : e.data).runId === run2.id),
      'workflow_run.failed is published',
    );
    problem(await h.api('POST', `/api/v1/workflow-runs/${run.id}/retry`), 409, 'CONFLICT');
    ok(await h.api('POST', `/api/v1/workflow-runs/${run2.id}/retry`));
    const resumed = await settled(run2.id, 'succeeded');
    assert.equal(
      resumed.log.filter((l: Json) => l.stepIndex === 0 && l.outcome === 'succeeded').length,
      1,
      'the step done before the failure is not done again',
    );
  });

  it('a run waiting across an edit keeps its version; a cancelled run does nothing more', async () => {
    const w = await create({
      steps: [
        { type: 'wait', duration: 'P3D' },
        { type: 'set-contact-fields', fields: { firstName: 'Version1' } },
      ],
    });
    const contact = await makeContact(h);
    const other = await makeContact(h);
    const [run = {}, cancelled = {}] = await runOn(w.id, [contact.id, other.id]);
    await settled(run.id, 'waiting');
    await settled(cancelled.id, 'waiting');
    ok(
      await h.api('PATCH', `/api/v1/workflows/${w.id}`, {
        steps: [
          { type: 'wait', duration: 'P3D' },
          { type: 'set-contact-fields', fields: { firstName: 'Version2' } },
        ],
      }),
    );
    const stopped = ok<Json>(await h.api('POST', `/api/v1/workflow-runs/${cancelled.id}/cancel`));
    assert.equal(stopped.status, 'cancelled');
    problem(await h.api('POST', `/api/v1/workflow-runs/${cancelled.id}/cancel`), 409, 'CONFLICT');
    h.advance(3 * DAY + 60_000);
    try {
      const done = await settled(run.id, 'succeeded');
      assert.equal(done.workflowVersion, 1);
      assert.equal(ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`)).firstName, 'Version1');
      const still = await runOf(cancelled.id);
      assert.equal(still.status, 'cancelled');
      assert.notEqual(ok<Json>(await h.api('GET', `/api/v1/contacts/${other.id}`)).firstName, 'Version1');
      // A run started after the edit follows version 2.
      const [later = {}] = await runOn(w.id, [other.id]);
      assert.equal(later.workflowVersion, 2);
    } finally {
      h.advance(-(3 * DAY + 60_000));
    }
  });

  it('runs on redemption ("Execute Workflow on Redeeming Contact") and on an event', async () => {
    const website = await makeWebsite(h);
    const role = await makeWebRole(h, website.id);
    const onRedeem = await create({
      websiteId: website.id,
      steps: [{ type: 'add-web-roles', webRoleIds: [role.id] }],
    });
    const onEvent = await create({
      websiteId: website.id,
      eventTypes: ['invitation.redeemed'],
      steps: [{ type: 'set-contact-fields', fields: { lastName: 'FromEvent' } }],
    });
    const { website: otherSite, invitation: wrong } = await makeSingle(h);
    problem(
      await h.api('PATCH', `/api/v1/invitations/${wrong.id}`, { redemptionWorkflowId: onRedeem.id }),
      400,
      'VALIDATION_FAILED',
    );
    assert.ok(otherSite);
    const contact = await makeContact(h);
    const inv = ok<Json>(
      await h.api('POST', '/api/v1/invitations', {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        redemptionWorkflowId: onRedeem.id,
      }),
      201,
    );
    const redeemer: Redeemer = {
      kind: 'register',
      email: contact.email,
      username: `u_${rand()}`,
      passwordHash: HASH,
    };
    await redeemInvitation(h.deps, {
      websiteId: website.id,
      code: inv.code,
      redeemer,
      ipAddress: null,
      userAgent: null,
    });
    const runs = await eventually(async () => {
      const list = ok<{ items: Json[] }>(
        await h.api('GET', `/api/v1/workflow-runs?contactId=${contact.id}`),
      ).items;
      return list.length === 2 && list.every((r) => r.status === 'succeeded') && list;
    });
    assert.deepEqual(runs.map((r) => [r.trigger, r.workflowId]).sort(), [
      ['event', onEvent.id],
      ['redemption', onRedeem.id],
    ]);
    const c = ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`));
    assert.deepEqual([c.webRoleIds, c.lastName], [[role.id], 'FromEvent']);
    const byInvitation = ok<{ items: Json[] }>(
      await h.api('GET', `/api/v1/workflow-runs?invitationId=${inv.id}`),
    ).items;
    assert.deepEqual(
      byInvitation.map((r) => r.trigger),
      ['redemption'],
    );
  });

  it('fails a run visibly when its job fails its last attempt, instead of leaving it running', async () => {
    const w = await create({
      steps: [
        { type: 'wait', duration: 'P1D' },
        { type: 'set-contact-fields', fields: { lastName: 'Never set' } },
      ],
    });
    const contact = await makeContact(h);
    const run = (await runOn(w.id, [contact.id]))[0] as Json;
    await settled(run.id, 'waiting');
    await h.deps.db
      .updateTable('workflow_runs')
      .set({ wait_until: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', run.id)
      .execute();
    // A database that fails every read of contacts, for this job's last attempt.
    const db = new Proxy(h.deps.db, {
      get(target, name) {
        if (name === 'selectFrom')
          return (table: string) => {
            if (table === 'contacts') throw new Error('the database is on fire');
            return target.selectFrom(table as never);
          };
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const job = { id: 'last', type: 'workflow.run', payload: { runId: run.id }, attempts: 5, maxAttempts: 5 };
    await assert.rejects(
      workflowRunner()({ ...job, runAt: new Date().toISOString() }, { ...h.deps, db }),
      /on fire/,
    );
    const failed = await runOf(run.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.lastError, /failed too often.*on fire/);
    const contactNow = ok<Json>(await h.api('GET', `/api/v1/contacts/${contact.id}`));
    assert.notEqual(contactNow.lastName, 'Never set');
  });

  it('refuses manual runs of a deactivated or built-in workflow, or on unknown contacts', async () => {
    const w = await create({ steps: [] });
    const contact = await makeContact(h);
    problem(
      await h.api('POST', '/api/v1/workflow-runs', {
        workflowId: w.id,
        contactIds: ['01900000-0000-7000-8000-000000000000'],
      }),
      400,
      'VALIDATION_FAILED',
    );
    ok(await h.api('POST', `/api/v1/workflows/${w.id}/deactivate`));
    problem(
      await h.api('POST', '/api/v1/workflow-runs', { workflowId: w.id, contactIds: [contact.id] }),
      409,
      'WORKFLOW_INACTIVE',
    );
    const builtIn = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/workflows?limit=500')).items.find(
      (x) => x.key === 'send-invitation',
    ) as Json;
    problem(
      await h.api('POST', '/api/v1/workflow-runs', { workflowId: builtIn.id, contactIds: [contact.id] }),
      400,
      'VALIDATION_FAILED',
    );
    assert.deepEqual(
      ok<{ items: Json[] }>(await h.api('GET', `/api/v1/workflow-runs?contactId=${contact.id}`)).items,
      [],
    );
  });
});
