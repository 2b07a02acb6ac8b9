// The demo app: a shop whose main thread keeps a cart, asks a "pricing" worker thread for prices, and
// hands receipts to a forked "mailer" child process. It runs for about two seconds and exits.
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
} else if (!isMainThread) {
  const prices = { apple: 3, pear: 5, fig: 7 };
  parentPort.on('message', ({ sku }) => {
    if (sku === 'stop') process.exit(0);
    parentPort.postMessage({ sku, price: prices[sku] ?? 1 });
  });
} else {
  globalThis.cart = new Cart();
  const pricing = new Worker(__filename, { name: 'pricing' });
  const mailer = fork(__filename, ['mailer']);
  const wanted = [['apple', 2], ['pear', 1], ['fig', 3]];
  let i = 0;
  pricing.on('message', ({ sku, price }) => {
    const total = globalThis.cart.add(sku, wanted[i][1], price);
    console.log(`cart: ${sku} x${wanted[i][1]} at ${price}, total ${total}`);
    if (++i < wanted.length) setTimeout(() => pricing.postMessage({ sku: wanted[i][0] }), 200);
    else setTimeout(() => { pricing.postMessage({ sku: 'stop' }); mailer.send({ total }); }, 500);
  });
  pricing.once('online', () => pricing.postMessage({ sku: wanted[0][0] }));
  mailer.on('exit', () => setTimeout(() => process.exit(0), 300));
}
