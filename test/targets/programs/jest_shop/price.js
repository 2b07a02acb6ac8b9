function lineTotal(line) {
  const total = line.price * line.qty;
  return total;
}

function quote(lines, code) {
  const sum = lines.reduce((s, line) => s + lineTotal(line), 0);
  return code === 'HALF' ? sum / 2 : sum;
}

module.exports = { lineTotal, quote };
