const assert = require('node:assert');
const { total } = require('../cart.cjs');

describe('total', () => {
  it('adds price times quantity', () => {
    assert.strictEqual(total([{ price: 2, qty: 3 }, { price: 5, qty: 1 }]), 11);
  });
});
