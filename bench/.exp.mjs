import autocannon from 'autocannon';
import WebSocket from 'ws';
import { startFixture, fixture, attachTracer, median, sleep, killAllFixtures } from './lib/common.mjs';
import { listeningPorts, inspectorUrl } from '../dist/trace/discovery.js';
const load = async (port, s) => { const r = await autocannon({ url: `http://127.0.0.1:${port}/`, duration: s, connections: 50, workers: 1 }); return r.requests.total / r.duration; };
const V = (process.env.V ?? 'none,open,runtime,minimal,full,none2').split(',');
async function openInsp(pid, port0) { process.kill(pid, 'SIGUSR1'); let p; for (let i=0;i<300;i++){ p = listeningPorts(pid).find(x=>x!==port0); if(p) break; await sleep(10);} const url = await inspectorUrl('127.0.0.1', p);
  const w = new WebSocket(url); await new Promise(r=>w.once('open',r)); w.send(JSON.stringify({id:1,method:'Runtime.evaluate',params:{expression:"setImmediate(()=>{const i=process.getBuiltinModule('inspector');i.close();i.open(0,'127.0.0.1',false)})"}})); await sleep(50); w.close();
  let q; for (let i=0;i<300;i++){ q = listeningPorts(pid).find(x=>x!==port0); if(q && q!==p) break; await sleep(10);} return inspectorUrl('127.0.0.1', q); }
const st = [];
try {
for (const v of V) {
  const s = await startFixture(fixture('http_server.cjs')); const e = { v, s };
  if (v === 'open' || v.startsWith('rt')) { const url = await openInsp(s.pid, s.ready.port); if (v.startsWith('rt')){ e.ws = new WebSocket(url); await new Promise(r => e.ws.once('open', r)); e.ws.send(JSON.stringify({id:1, method:'Runtime.enable'})); const pend = new Map(); e.ws.on('message', d => { const m = JSON.parse(d); if (m.id===5 && m.result?.result?.objectId) e.ws.send(JSON.stringify({id:6, method:'Runtime.queryObjects', params:{prototypeObjectId:m.result.result.objectId}})); });
    const send=(id,method,params)=>e.ws.send(JSON.stringify({id,method,params}));
    if (v==='rt_cli') send(2,'Runtime.evaluate',{expression:'globalThis.__r = typeof require', includeCommandLineAPI:true});
    if (v==='rt_emit') send(2,'Runtime.evaluate',{expression:"(()=>{const o=process.emit;Object.defineProperty(process,'emit',{value:function(n,...a){return o.apply(this,[n,...a])},writable:true,configurable:true,enumerable:false})})()"});
    if (v==='rt_listen') send(2,'Runtime.evaluate',{expression:"process.on('exit',()=>{});process.on('uncaughtExceptionMonitor',()=>{})"});
    if (v==='rt_bind') send(2,'Runtime.addBinding',{name:'__nsbench'});
    if (v==='rt_dc') send(2,'Runtime.evaluate',{expression:"(()=>{const dc=process.getBuiltinModule('diagnostics_channel');dc.subscribe('worker_threads',()=>{});dc.subscribe('child_process',()=>{})})()"});
    if (v==='rt_agent' || v==='rt_agentq' || v==='rt_q') {
      const { readFileSync } = await import('node:fs');
      const cfg = { binding: '__nsb', actor: String(s.pid), level: 'minimal', sampleRate: 1, redact: 'x', batchSize: 256, maxQueue: 20000, maxInFlight: 64, flushMs: 10, fromStart: false };
      if (v !== 'rt_q') { send(3,'Runtime.addBinding',{name:'__nsb'});
      send(4,'Runtime.evaluate',{expression:`(function(){${readFileSync('dist/agent.js','utf8')}\nreturn __nodescopeAgentModule.install(${JSON.stringify(cfg)}, typeof require === 'function' ? require : undefined).stats().seq;})()`, includeCommandLineAPI:true, returnByValue:true}); }
      if (v !== 'rt_agent') { await sleep(100); send(5,'Runtime.evaluate',{expression:'Object.prototype'}); await sleep(100); }
    }
    if (v==='rt_nw') send(7,'NodeWorker.enable',{waitForDebuggerOnStart:true});
    if (v==='rt_nr') send(8,'NodeRuntime.notifyWhenWaitingForDisconnect',{enabled:true});
    await sleep(200);
    } }
  if (v === 'minimal' || v === 'full') { try { e.tr = await attachTracer(s.pid, { level: v }); } catch (err) { console.log('ATTACH FAIL', err.message, s.child.exitCode, s.child.signalCode, s.stderr()); throw err; } }
  st.push(e);
}
for (const e of st) await load(e.s.ready.port, 1);
const res = Object.fromEntries(V.map(v=>[v,[]]));
const C = Number(process.env.C ?? 8);
for (let c = 0; c < C; c++) for (let i = 0; i < st.length; i++) { const e = st[(i + c) % st.length]; res[e.v].push(await load(e.s.ready.port, 1)); }
for (const v of V) console.log(v.padEnd(8), Math.round(median(res[v])), (median(res[v].map((x,i)=>x/res.none[i]))).toFixed(3), res[v].map(x=>(x/1000).toFixed(0)).join(' '));
} finally { for (const e of st) { e.ws?.close(); await e.tr?.close(); await e.s.stop(); } killAllFixtures(); }
