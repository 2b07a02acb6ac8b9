// The server's own logic: what an order costs.
const PRICES = { jam: 4, tea: 3 };

function quote(item, qty) {
  const unit = PRICES[item];
  if (unit === undefined) throw new Error(`no price for ${item}`);
  return unit * qty;
}

module.exports = { quote };
