import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { redeemInvitation } from '../../src/modules/invitations/redemption.service.ts';
import { type Json, makeInvitation, makeSingle, makeWebsite, ok } from '../support/factories.ts';
import { type Harness, onBothDatabases, startHarness } from '../support/harness.ts';

const PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0c2FsdA$c2VjcmV0aGFzaHNlY3JldGhhc2g';

onBothDatabases('secrets stay secret', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(() => h.close());

  it('no code, code hash, API key or password hash in any list, read, audit event or log line', async () => {
    const { website, contact, invitation } = await makeSingle(h);
    const group = await makeInvitation(h, { type: 'group', websiteId: website.id, maxRedemptions: 3 });
    const revealed = ok<Json>(await h.api('GET', `/api/v1/invitations/${group.id}/code`)).code;
    const regenerated = ok<Json>(await h.api('POST', `/api/v1/invitations/${group.id}/regenerate-code`)).code;
    await redeemInvitation(h.deps, {
      websiteId: website.id,
      code: invitation.code,
      redeemer: {
        kind: 'register',
        email: contact.email,
        username: `s_${Date.now()}`,
        passwordHash: PASSWORD_HASH,
      },
      ipAddress: '192.0.2.1',
      userAgent: 'secret-test',
    });
    // A code in a URL, as an email link would carry it, must not reach the logs either.
    await h.app.inject({
      method: 'GET',
      url: `/portal/${website.slug}/register?returnurl=%2F&invitation=${regenerated}`,
    });

    const hashes = (await h.deps.db.selectFrom('invitations').select('code_hash').execute()).map(
      (r) => r.code_hash,
    );
    const keyHashes = (await h.deps.db.selectFrom('api_keys').select('secret_hash').execute()).map(
      (r) => r.secret_hash,
    );
    const secrets = [
      invitation.code,
      revealed,
      regenerated,
      h.apiKey,
      PASSWORD_HASH,
      ...hashes,
      ...keyHashes,
    ];
    const variants = secrets.flatMap((s) => [s, s.replace(/-/g, ''), encodeURIComponent(s)]);

    const reads = [
      '/api/v1/invitations?limit=500',
      `/api/v1/invitations/${invitation.id}`,
      `/api/v1/invitations/${group.id}`,
      `/api/v1/invitations/${invitation.id}/redemptions`,
      '/api/v1/contacts?limit=500',
      `/api/v1/contacts/${contact.id}`,
      '/api/v1/audit-events?limit=500',
      '/api/v1/websites?limit=500',
      `/api/v1/websites/${(await makeWebsite(h)).id}`,
    ];
    for (const url of reads) {
      const body = ok(await h.api('GET', url)) && (await h.api('GET', url)).body;
      for (const s of variants) assert.ok(!body.includes(s), `${url} reveals a secret`);
      assert.ok(
        !/"(password\w*|\w*_hash|codeHash|secretHash)"\s*:/i.test(body),
        `${url} names a secret field`,
      );
    }
    const logs = h.logs();
    assert.ok(logs.includes('[redacted]'), 'the URL with a code was logged, redacted');
    for (const s of variants) assert.ok(!logs.includes(s), 'the logs reveal a secret');
  });
});
