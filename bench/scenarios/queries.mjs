// Queries: each of the nine tools against a store holding 1 million events of a realistic mix, p95 answer
// time and query plans. The query layer and the tools do not exist yet: placeholder rows.
import { row } from '../lib/common.mjs';

export const name = 'queries';

export async function run() {
  return [
    row(name, 'each of the nine tools on 1M events: p95 answer time', { figure: 'pending query tools', bar: '≤ 50 ms, plans use indexes', result: 'pending' }),
  ];
}
