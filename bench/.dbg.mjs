import { startFixture, fixture, loadDist, sleep, killAllFixtures } from './lib/common.mjs';
import { listeningPorts, inspectorUrl, listenerOf } from '../dist/trace/discovery.js';
import { relocateInspector } from '../dist/trace/relocate.js';
const { Store, Tracer, DEFAULT_REDACT } = await loadDist();
const s = await startFixture(fixture('http_server.cjs'));
console.log('before', listeningPorts(s.pid), s.pid, s.ready);
const t = new Tracer(new Store(), { level: 'minimal', sampleRate: 1, redact: DEFAULT_REDACT });
try { await t.attach(s.pid); console.log('attached first time'); } catch (e) { console.log('fail', e.message); }
console.log('ports', s.ready.port, listeningPorts(s.pid), listenerOf(9229), s.pid);
await sleep(100);
console.log('ports', listeningPorts(s.pid));
try { console.log(await relocateInspector(await inspectorUrl('127.0.0.1', 9229), s.pid, 0)); } catch (e) { console.log('reloc', e.message, listeningPorts(s.pid)); }
console.log(s.stderr());
await t.close(); await s.stop(); killAllFixtures();
