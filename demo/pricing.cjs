// Prices for the demo shop, used by its "pricing" worker; the demo traces this module from the first line.
const PRICES = { apple: 3, pear: 5, fig: 7 };

function quote(sku, qty) {
  if (!(sku in PRICES)) throw new Error(`no price for ${sku}`);
  return { sku, qty, price: PRICES[sku] };
}

module.exports = { quote };
