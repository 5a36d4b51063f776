import assert from 'node:assert/strict';
import { it } from 'node:test';
import { instant, pgInstant } from './values.ts';

it("reads PostgreSQL's UTC timestamps as the ISO strings a Date would give", () => {
  for (const [text, iso] of [
    ['2026-11-30 01:26:24+00', '2026-11-30T01:26:24.000Z'],
    ['2026-11-30 01:26:24.1+00', '2026-11-30T01:26:24.100Z'],
    ['2026-11-30 01:26:24.12+00', '2026-11-30T01:26:24.120Z'],
    ['1999-01-02 23:59:59.123456+00', '1999-01-02T23:59:59.123Z'],
    ['2026-11-30 01:26:24.999999+00', '2026-11-30T01:26:24.999Z'],
  ] as const) {
    assert.equal(pgInstant(text), iso);
    assert.equal(new Date(`${text.replace(' ', 'T').replace('+00', 'Z')}`).toISOString(), iso, 'as a Date');
  }
  // Anything else is left to node-postgres's parser.
  for (const text of [
    '2026-11-30 06:56:24+05:30',
    '2026-11-29 17:26:24-08',
    'infinity',
    '0044-03-15 12:00:00+00 BC',
  ])
    assert.equal(pgInstant(text), null, text);
});

it('keeps an ISO instant as it is, and normalises any other', () => {
  assert.equal(instant('2026-11-30T01:26:24.100Z'), '2026-11-30T01:26:24.100Z');
  assert.equal(instant('2026-11-30T02:26:24.100+01:00'), '2026-11-30T01:26:24.100Z');
  assert.equal(instant('2026-11-30 01:26:24'), new Date('2026-11-30 01:26:24').toISOString());
  assert.equal(instant(new Date(Date.UTC(2026, 10, 30, 1, 26, 24, 5))), '2026-11-30T01:26:24.005Z');
  assert.equal(instant(null), null);
});
