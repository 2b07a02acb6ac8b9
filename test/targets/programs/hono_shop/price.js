export function priceOf(id, qty) {
  const unit = 10 + id;
  return unit * qty;
}
