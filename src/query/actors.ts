// Actor references as users and models write them: an id printed by any tool ("4242", "4242/w1"), a bare
// OS pid, or a name (a worker's name, a script name, a process title).
import type { ActorRow, Store } from '../store/store.js';

export class ActorNotFound extends Error {}

export function resolveActor(store: Store, ref: string): ActorRow {
  const key = ref.trim();
  const byId = store.actor(key);
  if (byId) return byId;
  const actors = store.actors();
  const named = actors.filter((a) => a.name === key || (a.info !== null && JSON.parse(a.info).title === key));
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new ActorNotFound(`"${key}" names ${named.length} actors: ${named.map((a) => a.id).join(', ')}. Pass one of these ids.`);
  }
  const known = actors.slice(0, 10).map((a) => a.id).join(', ');
  throw new ActorNotFound(
    actors.length === 0
      ? `no actor "${key}": nothing is recorded yet. Use launch or attach first.`
      : `no actor "${key}". Known ids: ${known}${actors.length > 10 ? ', …' : ''}; get_supervision_tree lists them all.`,
  );
}

export interface ScriptThread {
  id: string;
  kind: string;
  name: string | null;
  script: string;
}

/** The processes and worker threads whose script is `module` (a path, or its end: "app.js", "./src/w.js"). */
export function threadsRunning(store: Store, module: string): ScriptThread[] {
  const tail = module.replace(/^\.\//, '');
  const found: ScriptThread[] = [];
  for (const a of store.actors()) {
    if (a.kind === 'object' || !a.info) continue;
    const info = JSON.parse(a.info) as { argv?: string[]; url?: string };
    const script = a.kind === 'worker' ? (info.url ?? '').replace(/^file:\/\//, '') : (info.argv?.[1] ?? '');
    if (script && (script === module || script.endsWith(`/${tail}`))) found.push({ id: a.id, kind: a.kind, name: a.name, script });
  }
  return found;
}
