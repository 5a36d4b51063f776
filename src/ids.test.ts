import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from './ids.ts';

it('ids are UUIDv7, distinct, and sort in the order they were made', () => {
  const ids = Array.from({ length: 5000 }, newId);
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  // The random part changes from one id to the next (not a counter over constant bits).
  const tails = new Set(ids.map((id) => id.slice(-8)));
  assert.ok(tails.size > 4900, `${tails.size} distinct random tails`);
});
