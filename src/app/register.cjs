'use strict';
// The in-app helper: `require('nodescope/register').register('cart', cart)` names an object so that
// `trace_named_process("cart")` finds it. It only keeps a weak reference in a registry on globalThis; with
// no nodescope attached it costs nothing more.
const KEY = Symbol.for('nodescope.registry');

function register(name, object) {
  if (typeof name !== 'string' || !name) throw new TypeError('register(name, object): name must be a non-empty string');
  if (object === null || (typeof object !== 'object' && typeof object !== 'function')) throw new TypeError('register(name, object): object must be an object');
  let registry = globalThis[KEY];
  if (!(registry instanceof Map)) {
    registry = new Map();
    Object.defineProperty(globalThis, KEY, { value: registry, configurable: true, enumerable: false, writable: false });
  }
  registry.set(name, new WeakRef(object));
  return object;
}

module.exports = { register };
