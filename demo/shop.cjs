// The demo app: a shop whose main thread keeps a cart, asks a "pricing" worker thread for quotes, and hands
// the receipt to a forked "mailer" child process. It runs for about two seconds and exits.
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const { fork } = require('node:child_process');

class Cart {
  constructor() {
    this.items = [];
    this.total = 0;
  }
  add(sku, qty, price) {
    this.items.push({ sku, qty, price });
    this.total += qty * price;
    return this.total;
  }
}

if (process.argv[2] === 'mailer') {
  process.on('message', (receipt) => {
    console.log(`mailer: receipt for ${receipt.total}`);
    process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
} else if (!isMainThread) {
  const { quote } = require('./pricing.cjs');
  parentPort.on('message', ({ sku, qty }) => {
    if (sku === 'stop') process.exit(0);
    try {
      parentPort.postMessage(quote(sku, qty));
    } catch (error) {
      parentPort.postMessage({ sku, error: error.message });
    }
  });
} else {
  globalThis.cart = new Cart();
  const pricing = new Worker(__filename, { name: 'pricing' });
  const mailer = fork(__filename, ['mailer']);
  const wanted = [['apple', 2], ['kiwi', 1], ['pear', 1], ['fig', 3]];
  let i = 0;
  const next = () => {
    if (i < wanted.length) pricing.postMessage({ sku: wanted[i][0], qty: wanted[i][1] });
    else {
      pricing.postMessage({ sku: 'stop' });
      mailer.send({ total: globalThis.cart.total });
    }
  };
  pricing.on('message', (q) => {
    i++;
    if (q.error) console.log(`cart: skipped ${q.sku} (${q.error})`);
    else console.log(`cart: ${q.sku} x${q.qty} at ${q.price}, total ${globalThis.cart.add(q.sku, q.qty, q.price)}`);
    setTimeout(next, 150);
  });
  // Starts shopping a moment after launch, so a tracer can begin tracking the cart first.
  setTimeout(next, 400);
  mailer.on('exit', () => setTimeout(() => process.exit(0), 200));
}
