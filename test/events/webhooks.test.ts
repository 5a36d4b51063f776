import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { pruneEvents, windowPublicationWrites } from '../../src/modules/events/event.ts';
import { isPrivateAddress, WebhookClient } from '../../src/modules/events/webhook.http.ts';
import { eventually } from '../support/eventually.ts';
import {
  type Json,
  makeSignedInContactsBulk,
  makeSingle,
  makeWebsite,
  ok,
  problem,
  rand,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Webhook endpoints against a receiver on loopback, every message checked by the official Standard
 * Webhooks verifier (`standardwebhooks`): the signature, the timestamp, rotated secrets; retries
 * on the schedule; the attempt log; test events, replays; disabling after five days of failures.
 */
const DAY = 24 * 3600 * 1000;

onBothDatabases('webhook endpoints', (dialect) => {
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

  /** An endpoint at a path of its own on the receiver; `sent(e, type)` are the requests it got. */
  const endpoint = async (body: Json = {}): Promise<Json> =>
    ok(
      await h.api('POST', '/api/v1/webhook-endpoints', {
        url: `${receiver.url}/hook/${rand()}`,
        eventTypes: ['*'],
        ...body,
      }),
      201,
    );
  const sent = (e: Json, type: string) => receiver.ofType(type).filter((r) => e.url.endsWith(r.path));
  const headersOf = (r: { headers: Record<string, unknown> }) => ({
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
  const deliveriesOf = async (id: string): Promise<Json[]> =>
    ok<{ items: Json[] }>(await h.api('GET', `/api/v1/webhook-endpoints/${id}/deliveries`)).items;

  it('signs each event as Standard Webhooks says, with a secret shown only at creation', async () => {
    const e = await endpoint();
    assert.match(e.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = ok<Json>(await h.api('GET', `/api/v1/webhook-endpoints/${e.id}`));
    assert.equal(read.secret, undefined);
    const list = await h.api('GET', '/api/v1/webhook-endpoints?limit=500');
    assert.ok(!list.body.includes(e.secret), 'no secret in the list');

    const { invitation, website, contact } = await makeSingle(h);
    const [got] = await eventually(() => {
      const m = sent(e, 'invitation.created').filter((r) => r.json.data.invitationId === invitation.id);
      return m.length > 0 && m;
    });
    assert.ok(got);
    const payload = new Webhook(e.secret).verify(got.body, headersOf(got)) as Json;
    assert.equal(payload.type, 'invitation.created');
    assert.deepEqual(payload.data, {
      invitationId: invitation.id,
      websiteId: website.id,
      type: 'single',
      invitedContactIds: [contact.id],
      ownerId: invitation.ownerId,
      expiresAt: invitation.expiresAt,
    });
    assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) * 1000 - Date.now()) < 10_000);
    assert.equal(got.headers['content-type'], 'application/json');

    // The timestamp is signed: the same message said to be older does not verify.
    const older = {
      ...headersOf(got),
      'webhook-timestamp': String(Number(got.headers['webhook-timestamp']) - 60),
    };
    assert.throws(() => new Webhook(e.secret).verify(got.body, older), /signature/i);
    // Another endpoint's secret does not verify it either.
    const other = await endpoint({ eventTypes: ['invitation.redeemed'] });
    assert.throws(() => new Webhook(other.secret).verify(got.body, headersOf(got)));
    // A verifier whose clock is six minutes on refuses the message (the timestamp tolerance).
    const realNow = Date.now;
    Date.now = () => realNow() + 6 * 60_000;
    try {
      assert.throws(() => new Webhook(e.secret).verify(got.body, headersOf(got)), /timestamp/i);
    } finally {
      Date.now = realNow;
    }
    assert.ok(!h.logs().includes(e.secret), 'the secret is never logged');

    const [delivery] = (await deliveriesOf(e.id)).filter((d) => d.eventId === got.headers['webhook-id']);
    assert.equal(delivery?.status, 'succeeded');
    assert.equal(delivery?.attemptLog.length, 1);
    assert.equal(delivery?.attemptLog[0].statusCode, 200);
    assert.equal(delivery?.attemptLog[0].response, 'ok');
  });

  it('delivers only the subscribed types, and nothing to a disabled endpoint', async () => {
    const only = await endpoint({ eventTypes: ['invitation.deactivated'] });
    const off = await endpoint({ enabled: false });
    const { invitation } = await makeSingle(h);
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/deactivate`));
    await eventually(async () => (await deliveriesOf(only.id)).some((d) => d.status === 'succeeded'));
    const types = (await deliveriesOf(only.id)).map((d) => d.type);
    assert.deepEqual(types, ['invitation.deactivated']);
    assert.deepEqual(await deliveriesOf(off.id), []);
  });

  it('publishes invitation.sent once per accepted email, however often its second is published', async () => {
    const e = await endpoint({ eventTypes: ['invitation.sent'] });
    const { invitation, contact } = await makeSingle(h);
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/send`), 202);
    const got = await eventually(
      () => sent(e, 'invitation.sent').find((r) => r.json.data.invitationId === invitation.id) ?? false,
    );
    const email = await h.deps.db
      .selectFrom('emails')
      .select(['id', 'sent_at'])
      .where('invitation_id', '=', invitation.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(new Webhook(e.secret).verify(got.body, headersOf(got)), {
      type: 'invitation.sent',
      timestamp: new Date(email.sent_at as string).toISOString(),
      data: { invitationId: invitation.id, contactId: contact.id, emailId: email.id, to: contact.email },
    });

    // The window's second pass (due a minute later), run now: it finds the same event, sends nothing.
    const secondPasses = async () =>
      (
        await h.deps.db
          .selectFrom('jobs')
          .select(['id', 'payload'])
          .where('type', '=', 'event.publish')
          .where('status', '=', 'queued')
          .execute()
      )
        .filter((j) => (typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload).window?.pass === 2)
        .map((j) => j.id);
    const passes = await secondPasses();
    assert.ok(passes.length >= 1, 'a second pass is queued');
    await h.deps.db
      .updateTable('jobs')
      .set({ run_at: new Date().toISOString() })
      .where('id', 'in', passes)
      .execute();
    h.worker?.nudge();
    await eventually(async () => (await secondPasses()).every((id) => !passes.includes(id)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      sent(e, 'invitation.sent').filter((r) => r.json.data.invitationId === invitation.id).length,
      1,
    );
    const deliveries = (await deliveriesOf(e.id)).filter((d) => d.eventId === got.headers['webhook-id']);
    assert.equal(deliveries.length, 1);
  });

  it('gives a record committed after its window a publication of its own', async () => {
    const now = new Date();
    const onTime = windowPublicationWrites(h.deps.db, now, [
      { type: 'invitation.sent', at: now.toISOString() },
    ]);
    const late = windowPublicationWrites(h.deps.db, now, [
      { type: 'invitation.sent', at: new Date(now.getTime() - 3000).toISOString() },
    ]);
    const again = windowPublicationWrites(
      h.deps.db,
      now,
      [{ type: 'invitation.sent', at: now.toISOString() }],
      new Set(onTime.windows),
    );
    assert.equal(onTime.windows.length, 1);
    assert.equal(late.windows.length, 1);
    assert.notEqual(late.windows[0], onTime.windows[0]);
    assert.deepEqual(again, { writes: [], windows: [] }, 'a window already committed is not written again');
    for (const q of [...late.writes, ...late.writes]) await h.deps.db.executeQuery(q);
    const from = new Date(Math.floor((now.getTime() - 3000) / 1000) * 1000).toISOString();
    const jobs = (
      await h.deps.db
        .selectFrom('jobs')
        .select(['id', 'payload', 'run_at'])
        .where('type', '=', 'event.publish')
        .execute()
    ).filter(
      (j) => (typeof j.payload === 'string' ? JSON.parse(j.payload) : j.payload).window?.from === from,
    );
    assert.equal(jobs.length, 1, "one publication of the record's window, written twice");
    assert.ok(Date.parse(jobs[0]?.run_at as string) > now.getTime(), 'after the commit, not before it');
    await h.deps.db
      .deleteFrom('jobs')
      .where('id', '=', jobs[0]?.id as string)
      .execute();
  });

  it('rotates the secret: both sign during the grace period, then only the new one', async () => {
    const e = await endpoint({ eventTypes: ['invitation.activated'] });
    const rotated = ok<Json>(await h.api('POST', `/api/v1/webhook-endpoints/${e.id}/rotate-secret`, {}));
    assert.notEqual(rotated.secret, e.secret);
    assert.ok(rotated.secretRotatedUntil);
    const { invitation } = await makeSingle(h);
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/deactivate`));
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/activate`));
    const [got] = await eventually(() => {
      const m = sent(e, 'invitation.activated').filter((r) => r.json.data.invitationId === invitation.id);
      return m.length > 0 && m;
    });
    assert.ok(got);
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    new Webhook(e.secret).verify(got.body, headersOf(got));
    new Webhook(rotated.secret).verify(got.body, headersOf(got));

    const again = ok<Json>(
      await h.api('POST', `/api/v1/webhook-endpoints/${e.id}/rotate-secret`, { gracePeriodSeconds: 0 }),
    );
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/deactivate`));
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/activate`));
    const later = await eventually(() => {
      const m = sent(e, 'invitation.activated').filter((r) => r.json.data.invitationId === invitation.id);
      return m.length > 1 && m[1];
    });
    new Webhook(again.secret).verify(later.body, headersOf(later));
    assert.throws(() => new Webhook(rotated.secret).verify(later.body, headersOf(later)));
  });

  it('retries a 500 after five seconds with the same webhook-id, and logs every attempt', async () => {
    const e = await endpoint({ eventTypes: ['invitation.code_regenerated'] });
    const { invitation } = await makeSingle(h);
    receiver.answer(new URL(e.url).pathname, { status: 500, body: `boom ${'x'.repeat(3000)}` });
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/regenerate-code`));
    const tries = await eventually(
      () => {
        const m = sent(e, 'invitation.code_regenerated').filter(
          (r) => r.json.data.invitationId === invitation.id,
        );
        return m.length >= 2 && m;
      },
      15_000,
      'the retry',
    );
    const [first, second] = tries as [(typeof tries)[0], (typeof tries)[0]];
    assert.equal(first.headers['webhook-id'], second.headers['webhook-id']);
    assert.ok(second.at - first.at >= 4_500, `retried after ${second.at - first.at} ms`);
    const [d] = await eventually(async () => {
      const list = await deliveriesOf(e.id);
      return list[0]?.status === 'succeeded' && list;
    });
    assert.equal(d?.attempts, 2);
    assert.deepEqual(
      d?.attemptLog.map((a: Json) => a.statusCode),
      [500, 200],
    );
    assert.equal(d?.attemptLog[0].response.length, 1024, 'the first KB of the answer is kept');
    assert.match(d?.attemptLog[0].response, /^boom x+$/);
  });

  it('holds the deliveries of an endpoint disabled by hand, and sends them when it is enabled', async () => {
    const e = await endpoint({ eventTypes: ['invitation.code_regenerated'] });
    const { invitation } = await makeSingle(h);
    receiver.answer(new URL(e.url).pathname, { status: 503 });
    ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/regenerate-code`));
    await eventually(() => sent(e, 'invitation.code_regenerated').length === 1);
    ok(await h.api('PATCH', `/api/v1/webhook-endpoints/${e.id}`, { enabled: false }));
    // The retry comes due (5 s) while the endpoint is off: nothing is sent, the delivery waits.
    await new Promise((r) => setTimeout(r, 6_500));
    assert.equal(sent(e, 'invitation.code_regenerated').length, 1);
    const [held] = await deliveriesOf(e.id);
    assert.equal(held?.status, 'pending');
    assert.equal(held?.attempts, 1);

    ok(await h.api('PATCH', `/api/v1/webhook-endpoints/${e.id}`, { enabled: true }));
    const [done] = await eventually(async () => {
      const list = await deliveriesOf(e.id);
      return list[0]?.status === 'succeeded' && list;
    });
    assert.deepEqual(
      done?.attemptLog.map((a: Json) => a.statusCode),
      [503, 200],
    );
  });

  it('tries a host that does not answer once per batch, not once per delivery', async () => {
    const dead = await endpoint({ eventTypes: ['invitation.created'] });
    const healthy = await endpoint({ eventTypes: ['invitation.created'] });
    receiver.holding.add(new URL(dead.url).pathname);
    const website = await makeWebsite(h);
    const contacts = await makeSignedInContactsBulk(h, 40);
    ok(await h.api('POST', '/api/v1/invitations/bulk', { websiteId: website.id, contactIds: contacts }), 201);
    await eventually(
      async () => (await deliveriesOf(healthy.id)).filter((d) => d.status === 'succeeded').length === 40,
    );
    const tried = await eventually(
      async () => {
        const list = await deliveriesOf(dead.id);
        return list.length === 40 && list.every((d) => d.attempts === 1) && list;
      },
      30_000,
      'every delivery to the silent host counted once',
    );
    const skipped = tried.filter((d) => /^Not sent: an earlier request/.test(d.attemptLog[0]?.error ?? ''));
    assert.ok(skipped.length >= 8, `${skipped.length} of 40 not sent`);
    assert.ok(
      receiver.received.filter((r) => r.path === new URL(dead.url).pathname).length <= 32,
      'at most one wave of requests reached the silent host',
    );
    assert.ok(
      tried.every((d) => d.status === 'pending'),
      'each waits for its retry',
    );
  });

  it('sends a test event on request, and replays a delivery with the same webhook-id', async () => {
    const e = await endpoint({ eventTypes: ['invitation.deleted'] });
    const test = ok<Json>(await h.api('POST', `/api/v1/webhook-endpoints/${e.id}/test`), 202);
    const [got] = await eventually(() => {
      const m = sent(e, 'webhook_endpoint.test');
      return m.length > 0 && m;
    });
    assert.ok(got);
    new Webhook(e.secret).verify(got.body, headersOf(got));
    await eventually(async () => (await deliveriesOf(e.id))[0]?.status === 'succeeded');
    ok(await h.api('POST', `/api/v1/webhook-deliveries/${test.id}/replay`), 202);
    const twice = await eventually(() => {
      const m = sent(e, 'webhook_endpoint.test');
      return m.length > 1 && m;
    });
    assert.equal(twice[1]?.headers['webhook-id'], got.headers['webhook-id']);
  });

  it('does not follow a redirect, not even to a receiver it may reach', async () => {
    const target = await new WebhookReceiver().start();
    try {
      const e = await endpoint({ eventTypes: ['invitation.deactivated'] });
      receiver.answer(new URL(e.url).pathname, {
        status: 302,
        headers: { location: `${target.url}/stolen` },
      });
      const { invitation } = await makeSingle(h);
      ok(await h.api('POST', `/api/v1/invitations/${invitation.id}/deactivate`));
      const [d] = await eventually(async () => {
        const list = await deliveriesOf(e.id);
        return list[0]?.attempts >= 1 && list;
      });
      assert.equal(d?.status, 'pending', 'a 3xx is not a success: retried later');
      assert.match(d?.attemptLog[0].error, /redirects are not followed/);
      assert.equal(target.received.length, 0);
    } finally {
      await target.stop();
    }
  });

  it('disables an endpoint that has failed for five days, and says why', async () => {
    const failing = await new WebhookReceiver().start();
    let moved = 0;
    failing.fallback = { status: 503, body: 'down' };
    try {
      const e = ok<Json>(
        await h.api('POST', '/api/v1/webhook-endpoints', {
          url: `${failing.url}/hook`,
          eventTypes: ['invitation.deleted'],
        }),
        201,
      );
      const t = ok<Json>(await h.api('POST', `/api/v1/webhook-endpoints/${e.id}/test`), 202);
      await eventually(
        async () => ok<Json>(await h.api('GET', `/api/v1/webhook-endpoints/${e.id}`)).failingSince ?? false,
      );
      const since = ok<Json>(await h.api('GET', `/api/v1/webhook-endpoints/${e.id}`)).failingSince;
      /** Moves the clock, replays the delivery, and waits for that attempt (not an earlier retry's). */
      const failAgainAfter = async (ms: number) => {
        h.advance(ms);
        moved += ms;
        const since = h.deps.now().toISOString();
        ok(await h.api('POST', `/api/v1/webhook-deliveries/${t.id}/replay`), 202);
        await eventually(
          async () =>
            (await h.deps.db
              .selectFrom('webhook_attempts')
              .select('id')
              .where('delivery_id', '=', t.id)
              .where('at', '>=', since)
              .executeTakeFirst()) !== undefined,
        );
      };
      // Days of silence are not days of failure: after them, a failure starts a new streak.
      await failAgainAfter(5 * DAY + 60_000);
      const restarted = ok<Json>(await h.api('GET', `/api/v1/webhook-endpoints/${e.id}`));
      assert.equal(restarted.enabled, true);
      assert.ok(Date.parse(restarted.failingSince) > Date.parse(since) + 5 * DAY, 'a new streak');
      // Failing at least every 11 hours for five days disables it.
      for (let i = 0; i < 11; i++) await failAgainAfter(11 * 3600 * 1000);
      const read = await eventually(async () => {
        const r = ok<Json>(await h.api('GET', `/api/v1/webhook-endpoints/${e.id}`));
        return r.enabled === false && r;
      });
      assert.match(read.disabledReason, /failed since/);
      assert.match(read.disabledReason, /503/);
      const audit = ok<{ items: Json[] }>(
        await h.api('GET', `/api/v1/audit-events?entityType=webhook_endpoint&entityId=${e.id}`),
      ).items;
      assert.ok(audit.some((a) => a.action === 'webhook_endpoint.disabled'));
      problem(await h.api('POST', `/api/v1/webhook-deliveries/${t.id}/replay`), 409, 'CONFLICT');
      // The administrators are told, by email, through the one delivery.
      const told = await eventually(async () => {
        const list = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/emails?limit=500')).items;
        return list.find((m) => m.subject?.includes(e.url) && m.status === 'sent');
      });
      assert.equal(told.to, 'bootstrap@admit.invalid');
      assert.match(told.subject, /^Webhook endpoint disabled: /);
      const full = ok<Json>(await h.api('GET', `/api/v1/emails/${told.id}`));
      assert.match(full.text, /503/);
      // Enabled again by hand, it starts afresh.
      const enabled = ok<Json>(await h.api('PATCH', `/api/v1/webhook-endpoints/${e.id}`, { enabled: true }));
      assert.equal(enabled.disabledReason, null);
      assert.equal(enabled.failingSince, null);
    } finally {
      h.advance(-moved);
      await failing.stop();
    }
  });

  it('deletes events past their retention with their deliveries, but not one still to send', async () => {
    const done = await endpoint();
    const waiting = await endpoint();
    receiver.answer(new URL(waiting.url).pathname, { status: 503 });
    const sentTest = ok<Json>(await h.api('POST', `/api/v1/webhook-endpoints/${done.id}/test`), 202);
    const heldTest = ok<Json>(await h.api('POST', `/api/v1/webhook-endpoints/${waiting.id}/test`), 202);
    await eventually(async () => (await deliveriesOf(done.id))[0]?.status === 'succeeded');
    await eventually(async () => (await deliveriesOf(waiting.id))[0]?.attempts === 1);
    const eventOf = async (deliveryId: string) =>
      h.deps.db
        .selectFrom('events')
        .select('id')
        .where(
          'id',
          '=',
          (
            await h.deps.db
              .selectFrom('webhook_deliveries')
              .select('event_id')
              .where('id', '=', deliveryId)
              .executeTakeFirstOrThrow()
          ).event_id,
        )
        .executeTakeFirst();
    const keptEvent = await eventOf(heldTest.id);
    const goneEvent = await eventOf(sentTest.id);
    assert.ok(keptEvent && goneEvent);

    assert.equal(await pruneEvents(30)(h.deps, new Date(Date.now() + 29 * DAY)), 0, 'nothing is old yet');
    assert.ok((await pruneEvents(30)(h.deps, new Date(Date.now() + 31 * DAY))) >= 1);
    assert.deepEqual(await deliveriesOf(done.id), [], 'the delivered event went, with its delivery');
    const still = await deliveriesOf(waiting.id);
    assert.equal(still.length, 1, 'the delivery still to send stays');
    assert.equal(still[0]?.attemptLog.length, 1);
    assert.ok(
      await h.deps.db.selectFrom('events').select('id').where('id', '=', keptEvent.id).executeTakeFirst(),
    );
  });

  it('refuses bad endpoints with a 400 naming the field, and changes nothing', async () => {
    const before = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/webhook-endpoints?limit=500')).items
      .length;
    const bad = [
      [{ url: 'not a url', eventTypes: ['*'] }, '/url'],
      [{ url: 'ftp://example.com/x', eventTypes: ['*'] }, '/url'],
      [{ url: 'https://user:pw@example.com/x', eventTypes: ['*'] }, '/url'],
      [{ url: 'https://example.com/x', eventTypes: ['invitation.exploded'] }, '/eventTypes/0'],
      [{ url: 'https://example.com/x', eventTypes: [] }, '/eventTypes'],
    ] as const;
    for (const [body, path] of bad) {
      const p = problem(await h.api('POST', '/api/v1/webhook-endpoints', body), 400, 'VALIDATION_FAILED');
      assert.ok(
        p.errors?.some((e) => e.path === path),
        `${JSON.stringify(body)}: ${JSON.stringify(p.errors)}`,
      );
    }
    const after = ok<{ items: Json[] }>(await h.api('GET', '/api/v1/webhook-endpoints?limit=500')).items
      .length;
    assert.equal(after, before);
  });
});

/** Without ADMIT_WEBHOOK_ALLOW_PRIVATE, nothing goes to the server's own networks. */
onBothDatabases('webhook requests never reach private addresses', (dialect) => {
  let h: Harness;
  let receiver: WebhookReceiver;
  before(async () => {
    h = await startHarness(dialect, { worker: true });
    receiver = await new WebhookReceiver().start();
  });
  after(async () => {
    await h.close();
    await receiver.stop();
  });

  it('refuses loopback, private, link-local and plain http URLs at creation', async () => {
    for (const url of [
      receiver.url,
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.1.2.3/hook',
      'https://172.16.0.1/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fe80::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://2130706433/hook',
      'https://0x7f.1/hook',
      'http://example.com/hook',
    ]) {
      const p = problem(
        await h.api('POST', '/api/v1/webhook-endpoints', { url, eventTypes: ['*'] }),
        400,
        'VALIDATION_FAILED',
      );
      assert.equal(p.errors?.[0]?.path, '/url', url);
    }
  });

  it('refuses at connection time a name that resolves to a private address', async () => {
    // This machine's own name resolves (through /etc/hosts) to a loopback or private address.
    const name = hostname();
    const resolved = await lookup(name);
    assert.ok(
      isPrivateAddress(resolved.address),
      `${name} resolves to ${resolved.address}, expected a private one`,
    );
    const e = ok<Json>(
      await h.api('POST', '/api/v1/webhook-endpoints', { url: `https://${name}:1/hook`, eventTypes: ['*'] }),
      201,
    );
    ok(await h.api('POST', `/api/v1/webhook-endpoints/${e.id}/test`), 202);
    const [d] = await eventually(async () => {
      const list = ok<{ items: Json[] }>(
        await h.api('GET', `/api/v1/webhook-endpoints/${e.id}/deliveries`),
      ).items;
      return list[0]?.attempts >= 1 && list;
    });
    assert.match(
      d?.attemptLog[0].error,
      new RegExp(`Refused: ${name} resolves to a private, loopback or link-local address`),
    );
    assert.equal(d?.attemptLog[0].statusCode, null);
  });

  it('classifies addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1', // mapped, in hex
      '::127.0.0.1', // the deprecated compatible form
      '::a9fe:a9fe', // 169.254.169.254, compatible, in hex
      '::0.0.0.5', // compatible, refused whole
      '::ffff:0:7f00:1', // SIIT of 127.0.0.1
      '64:ff9b::10.0.0.1', // NAT64
      '64:ff9b::7f00:1',
      '2002:7f00:1::', // 6to4 of 127.0.0.1
      '2002:c0a8:101::1', // 6to4 of 192.168.1.1
      '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      'fec0::1', // site-local
      'fe80::1%eth0',
      '224.0.0.1',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:4700:4700::1111',
      '172.32.0.1',
      '64:ff9b::808:808', // NAT64 of 8.8.8.8
      '2002:808:808::1', // 6to4 of 8.8.8.8
      '::ffff:8.8.8.8',
    ])
      assert.equal(isPrivateAddress(a), false, a);
  });
});

/** The HTTP client itself: every request settles within its deadline, whatever the receiver does. */
describe('signed POSTs against misbehaving receivers', () => {
  const client = new WebhookClient(true);
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/breaks') {
        res.writeHead(200);
        res.write('x');
        setTimeout(() => res.socket?.destroy(), 50);
      } else if (req.url === '/trickles') {
        res.writeHead(200);
        const t = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(t));
      } else if (req.url === '/nul') {
        res.writeHead(200).end('ok\u0000fine');
      } else res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const post = (p: string, timeoutMs = 1000) =>
    client.post({
      url: `${base}${p}`,
      id: 'msg_1',
      body: '{}',
      keys: [Buffer.alloc(32)],
      timeoutMs,
      now: new Date(),
    });

  it('settles when the connection breaks during the answer', async () => {
    const o = await post('/breaks');
    assert.equal(o.ok, false);
    assert.match(o.error ?? '', /closed before the answer was complete/);
  });
  it('gives up at the deadline on a receiver that trickles bytes', async () => {
    const started = Date.now();
    const o = await post('/trickles', 500);
    assert.ok(Date.now() - started < 1500, `settled after ${Date.now() - started} ms`);
    assert.equal(o.ok, false);
    assert.match(o.error ?? '', /No answer within 500 ms/);
  });
  it('keeps the answer as text a database can store', async () => {
    const o = await post('/nul');
    assert.deepEqual([o.ok, o.response], [true, 'okfine']);
  });
});
