// Insert cost of two builds' Store on one mix of rows (the compare_queries mix: 30 % calls + completions, 15 %
// HTTP request + response, 10 % message send + receive, 45 % logs), key columns given as ingest gives them,
// written in 2,000-row transactions to a file store; builds interleaved, CPU µs per row, median and min of
// the rounds (the min is the least disturbed by a loaded machine).
//   node bench/store_insert.mjs <old dist> <new dist> [rows] [rounds]
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
const [OLD, NEW] = [resolve(process.argv[2] ?? '../main/dist'), resolve(process.argv[3] ?? 'dist')];
const N = Number(process.argv[4] ?? 200000);
const THREADS = ['4242', '4242/w1', '4242/w2', '4242/w3']; const MODULES = ['./src/payments.js', './src/cart.js', './src/users.js']; const FUNCTIONS = ['charge', 'refund', 'quote', 'lookup'];
const rows = [];
let ts = 1e12, call = 0, req = 0;
const ev = (type, subtype, actor, payload, extra = {}) => { ts += 1000; rows.push({ ts_ns: ts, wall_ms: 1.7e12 + (ts - 1e12) / 1e6, type, subtype, actor, from_actor: null, to_actor: null, corr: null, ref: null, payload: JSON.stringify(payload), ...extra }); };
for (let i = 0; i < N;) { const r = i % 20, thread = THREADS[i % 4];
  if (r < 6) { const th = THREADS[(++call >> 2) % 4]; const id = `${th}:c${call}`; const fn = FUNCTIONS[call % 4], module = MODULES[call % 3]; const ns = 1000 + (call % 997) * 13;
    ev('call','call',th,{module,fn,args:[call],parent:null},{ref:id,k_module:module,k_fn:fn}); ev('call','return',th,{module,fn,result:1,duration_ns:ns,async:false},{ref:id,k_module:module,k_fn:fn,k_ns:ns}); i+=2; }
  else if (r < 9) { const id = `4242:r${++req}`; const status = req%50===0?500:200; ev('http','request','4242',{method:'GET',url:'/c/'+req},{ref:id,corr:id}); ev('http','response','4242',{status, route:'/c/:id', duration_ns:2e6},{ref:id,corr:id,k_status:status,k_ns:2e6}); i+=2; }
  else if (r < 11) { const to = THREADS[1 + i % 3]; ev('message','send','4242',{channel:'worker',message:{n:i%97}},{from_actor:'4242',to_actor:to,ref:'m'+i+'#h'}); ev('message','receive',to,{channel:'worker',message:{n:i%97}},{from_actor:'4242',to_actor:to,ref:'m'+i+'#h'}); i+=2; }
  else { ev('log','log',thread,{text:'line '+i}); i++; } }
const builds = { old: await import(`${OLD}/store/store.js`), new: await import(`${NEW}/store/store.js`) };
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
const t = { old: [], new: [] };
const ROUNDS = Number(process.argv[5] ?? 9);
for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) {
  const dir = mkdtempSync(join(tmpdir(), 'sins-'));
  const store = new builds[name].Store({ path: join(dir, 'db'), maxEvents: N * 2 });
  // the rows are written as copies: a store may add key fields to the objects it is given
  const mine = rows.map((x) => ({ ...x }));
  const c = cpu();
  for (let i = 0; i < mine.length; i += 2000) store.write(mine.slice(i, i + 2000), []);
  t[name].push((cpu() - c) / mine.length);
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const min = (xs) => Math.min(...xs);
for (const [what, f] of [['median', med], ['min', min]]) {
  console.log(`${N} rows, CPU µs per row (${what} of ${ROUNDS}): before ${f(t.old).toFixed(2)} (${(1e6 / f(t.old)).toFixed(0)} rows/s)  after ${f(t.new).toFixed(2)} (${(1e6 / f(t.new)).toFixed(0)} rows/s)  ratio ${(f(t.new) / f(t.old)).toFixed(3)}`);
}
console.log('all runs', JSON.stringify(t, (k, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v)));
