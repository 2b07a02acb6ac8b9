import assert from 'node:assert';
import cart from '../cart.cjs';

describe('discount', () => {
  it('halves with HALF', () => {
    assert.strictEqual(cart.discount(40, 'HALF'), 20);
  });
  it('refuses an unknown code', () => {
    assert.strictEqual(cart.discount(40, 'FREE'), 0);
  });
});
