import assert from 'node:assert/strict';
import { it } from 'node:test';
import { redactText, redactUrl } from './logging.ts';

const CODE = '7K4Q-M2ZD-9XWV-T3HB-QN8R-P4JC-6YFA';
const COMPACT = CODE.replace(/-/g, '');

it('redacts a code from every URL shape a request can take', () => {
  const shapes = [
    `/portal/p/register?returnurl=%2F&invitation=${CODE}`,
    `/portal/p/register?INVITATION=${CODE}`,
    `/portal/p/register?invitation[]=${CODE}`,
    `/portal/p/register?invitation[0]=${CODE}&invitation[1]=${COMPACT}`,
    `/portal/p/register?%69nvitation=${CODE}`,
    `/portal/p/register?invitation=${encodeURIComponent(encodeURIComponent(CODE))}`,
    `/portal/p/signin?returnurl=${encodeURIComponent(`/register?invitation=${CODE}`)}`,
    `/portal/p/signin?returnurl=${encodeURIComponent(encodeURIComponent(`/redeem?code=${COMPACT}`))}`,
    `/portal/p/register?x=${CODE.replace(/-/g, '+')}`,
    `/portal/p/register?x=${CODE.replace(/-/g, '%20')}`,
    `/portal/p/redeem/${CODE}`,
    `/portal/p/redeem/${COMPACT.toLowerCase()}?a=1`,
    `/portal/p/reset-password?token=0193-abc.def`,
    `/portal/p/x?code=${CODE}#frag`,
    `/portal/p/x/${COMPACT.slice(0, 14)}-${COMPACT.slice(14)}`,
    `/portal/p/x?next=${COMPACT.slice(0, 14)}-${COMPACT.slice(14)}`,
    `/portal/p/x?next=${COMPACT.slice(0, 5)}%20${COMPACT.slice(5, 20)}-${COMPACT.slice(20)}`,
  ];
  for (const url of shapes) {
    const out = redactUrl(url);
    assert.ok(
      !out.includes(CODE) && !out.includes(COMPACT) && !out.toLowerCase().includes(COMPACT.toLowerCase()),
      `${url} → ${out}`,
    );
    assert.ok(!/M2ZD|m2zd|MZD9|0193-abc/i.test(out.replace(/%20|-/g, '')), `${url} → ${out}`);
    assert.match(out, /\[redacted\]/, url);
  }
});

it('keeps what is not secret: paths, ids and other parameters', () => {
  const id = '01a23389-94e8-77c4-824a-8da275e5e03b';
  assert.equal(redactUrl(`/api/v1/invitations/${id}?limit=50`), `/api/v1/invitations/${id}?limit=50`);
  assert.equal(redactUrl('/portal/p/signin?returnurl=%2Fp%2Fdocs'), '/portal/p/signin?returnurl=%2Fp%2Fdocs');
  assert.equal(redactUrl('/healthz'), '/healthz');
});

it('redacts URLs and code-shaped words inside free text (error messages, stacks)', () => {
  const out = redactText(`Reply was already sent in /portal/p/register?invitation=${CODE} for ${COMPACT}`);
  assert.ok(!out.includes(CODE) && !out.includes(COMPACT), out);
  const spoken = redactText(`the code ${CODE.replace(/-/g, ' ')} was typed`);
  assert.ok(spoken.startsWith('the ') && !/7K4Q|6YFA|M2ZD/.test(spoken), spoken);
});
