export interface Line {
  price: number;
  qty: number;
}

export function lineTotal(line: Line): number {
  return line.price * line.qty;
}

export const discount = (total: number, code: string): number => {
  if (code === 'BAD') throw new Error(`unknown code ${code}`);
  return code === 'HALF' ? total / 2 : total;
};

export function quote(lines: Line[], code: string): number {
  return discount(lines.reduce((sum, line) => sum + lineTotal(line), 0), code);
}
