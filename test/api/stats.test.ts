import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import {
  emailWhen,
  type Json,
  makeContact,
  makeInvitation,
  makeSignedInContact,
  makeWebsite,
  ok,
  problem,
} from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

onBothDatabases('GET /stats/invitations: the dashboard funnel', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect, { worker: true });
  });
  after(() => h.close());

  it('counts created, sent, redeemed and expired per UTC day, per website, with zeros on quiet days', async () => {
    // Noon UTC tomorrow, so nothing below lands near midnight.
    const d0 = Math.floor(Date.now() / DAY) * DAY + DAY + DAY / 2;
    h.advance(d0 - h.deps.now().getTime());
    const a = await makeWebsite(h);
    const b = await makeWebsite(h);
    const single = async (websiteId: string, extra: Json = {}) =>
      makeInvitation(h, {
        type: 'single',
        websiteId,
        invitedContactIds: [(await makeContact(h)).id],
        ...extra,
      });

    const invitee = await makeSignedInContact(h);
    const sent = await makeInvitation(h, {
      type: 'single',
      websiteId: a.id,
      invitedContactIds: [invitee.id],
      send: true,
    });
    await single(a.id, { expiresAt: new Date(d0 + DAY + 3_600_000).toISOString() });
    await single(a.id);
    await single(b.id);
    await emailWhen(h, sent.id, 'sent');
    await redeemInvitation(h.deps, {
      websiteId: a.id,
      code: sent.code,
      redeemer: { kind: 'contact', contactId: invitee.id, method: 'signin' },
      ipAddress: '198.51.100.7',
      userAgent: 'test',
    });
    h.advance(DAY);
    await single(a.id);
    h.advance(DAY);

    const funnel = ok<Json>(
      await h.api(
        'GET',
        `/api/v1/stats/invitations?websiteId=${a.id}&from=${day(d0 - DAY)}&to=${day(d0 + 2 * DAY)}`,
      ),
    );
    assert.deepEqual(funnel.days, [
      { day: day(d0 - DAY), created: 0, sent: 0, redeemed: 0, expired: 0 },
      { day: day(d0), created: 3, sent: 1, redeemed: 1, expired: 0 },
      { day: day(d0 + DAY), created: 1, sent: 0, redeemed: 0, expired: 1 },
      { day: day(d0 + 2 * DAY), created: 0, sent: 0, redeemed: 0, expired: 0 },
    ]);
    assert.deepEqual(funnel.totals, { created: 4, sent: 1, redeemed: 1, expired: 1 });
    assert.equal(funnel.websiteId, a.id);

    const everywhere = ok<Json>(
      await h.api('GET', `/api/v1/stats/invitations?from=${day(d0)}&to=${day(d0)}`),
    );
    assert.ok(everywhere.days[0].created >= 4, 'without websiteId every website counts');

    const recent = ok<Json>(await h.api('GET', '/api/v1/stats/invitations'));
    assert.equal(recent.days.length, 30, 'by default the last 30 days');
    assert.equal(recent.to, day(d0 + 2 * DAY), 'ending today');
    assert.equal(recent.days[27].day, day(d0));
  });

  it('says the conversion (sent → redeemed) and the median time from sending to redeeming', async () => {
    const website = await makeWebsite(h);
    const start = h.deps.now().getTime();
    const sentTo = [];
    for (let i = 0; i < 4; i++) {
      const contact = await makeSignedInContact(h);
      const inv = await makeInvitation(h, {
        type: 'single',
        websiteId: website.id,
        invitedContactIds: [contact.id],
        send: true,
      });
      await emailWhen(h, inv.id, 'sent');
      sentTo.push({ contact, inv });
    }
    // Redeemed 1, 2 and 6 hours after sending; the fourth never.
    let at = 0;
    for (const [k, hours] of [1, 2, 6].entries()) {
      h.advance(hours * 3_600_000 - at);
      at = hours * 3_600_000;
      const { contact, inv } = sentTo[k] as { contact: Json; inv: Json };
      await redeemInvitation(h.deps, {
        websiteId: website.id,
        code: inv.code,
        redeemer: { kind: 'contact', contactId: contact.id, method: 'signin' },
        ipAddress: '198.51.100.7',
        userAgent: 'test',
      });
    }
    const range = `from=${day(start - DAY)}&to=${day(start + DAY)}`;
    const funnel = ok<Json>(await h.api('GET', `/api/v1/stats/invitations?websiteId=${website.id}&${range}`));
    assert.deepEqual([funnel.totals.sent, funnel.totals.redeemed], [4, 3]);
    assert.equal(funnel.conversion, 0.75);
    assert.ok(
      Math.abs(funnel.medianSecondsToRedeem - 2 * 3600) <= 5,
      `about two hours: ${funnel.medianSecondsToRedeem}`,
    );
    const quiet = ok<Json>(
      await h.api('GET', `/api/v1/stats/invitations?websiteId=${(await makeWebsite(h)).id}&${range}`),
    );
    assert.deepEqual(
      [quiet.conversion, quiet.medianSecondsToRedeem],
      [null, null],
      'nothing sent, nothing said',
    );
  });

  it('refuses days that are not days, reversed or too long ranges, and unknown websites', async () => {
    for (const q of [
      'from=2026-02-30',
      'to=29-11-2026',
      'from=2026-11-29&to=2026-11-01',
      'from=2024-01-01&to=2026-01-01',
    ])
      problem(await h.api('GET', `/api/v1/stats/invitations?${q}`), 400, 'VALIDATION_FAILED');
    problem(
      await h.api('GET', '/api/v1/stats/invitations?websiteId=0193a0d6-0000-7000-8000-000000000000'),
      404,
      'NOT_FOUND',
    );
  });
});
