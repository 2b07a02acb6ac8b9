// One typed table of options: CLI flags, environment variables and defaults, with validation that names the
// bad key. Names follow ElixirScope's `setup` options.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration } from './query/time.js';
import { LEVELS, type Level } from './shared/protocol.js';
import { CATEGORIES, DEFAULT_CATEGORIES, parseCategories } from './tools/categories.js';
import { DEFAULT_MAX_EVENTS } from './store/store.js';
import { DEFAULT_REDACT } from './trace/tracer.js';

export interface Config {
  tracing_level: Level;
  sample_rate: number;
  max_events: number;
  persist: boolean;
  persist_path: string;
  /** Folder export_trace writes into; '' for the default (next to the persisted trace, else a per-user temp folder). */
  export_dir: string;
  redact: string;
  web: boolean;
  trace_all: boolean;
  allow_evaluate: boolean;
  /** Event type → how long its events are kept, ms. */
  retention: Record<string, number>;
  /** Modules that add tools (each exports `tools`, an array of defineTool values, or a default one). */
  tools: string[];
  /** Tool categories the MCP server lists (categories.ts), or 'all'. */
  tool_categories: readonly string[] | 'all';
}

interface OptionSpec<K extends keyof Config> {
  key: K;
  flag: string;
  env: string;
  describe: string;
  default: Config[K];
  parse(raw: string): Config[K];
}

function spec<K extends keyof Config>(s: OptionSpec<K>): OptionSpec<K> {
  return s;
}

/** "call=10m,log=1h" → { call: 600000, log: 3600000 } */
export function parseRetention(raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [type, duration] = part.split('=');
    if (!type || !duration) throw new Error(`"${part}" is not type=duration (e.g. call=10m)`);
    out[type.trim()] = parseDuration(duration);
  }
  return out;
}

function parseBoolean(raw: string): boolean {
  if (['', 'true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new Error('must be true or false');
}

export const OPTIONS = [
  spec({
    key: 'tracing_level', flag: '--tracing-level', env: 'NODESCOPE_TRACING_LEVEL', default: 'full',
    describe: `What is recorded: ${LEVELS.join(', ')}. Lifecycle events (spawn, exit, crash) are kept at every level but off.`,
    parse: (raw) => {
      if (!(LEVELS as readonly string[]).includes(raw)) throw new Error(`must be one of ${LEVELS.join(', ')}`);
      return raw as Level;
    },
  }),
  spec({
    key: 'sample_rate', flag: '--sample-rate', env: 'NODESCOPE_SAMPLE_RATE', default: 1,
    describe: 'Share of non-critical events kept, 0 to 1, chosen deterministically. Critical events are never sampled.',
    parse: (raw) => {
      const n = Number(raw);
      if (!(n >= 0 && n <= 1)) throw new Error('must be a number from 0 to 1');
      return n;
    },
  }),
  spec({
    key: 'max_events', flag: '--max-events', env: 'NODESCOPE_MAX_EVENTS', default: DEFAULT_MAX_EVENTS,
    describe: 'Events kept in the store; the oldest are pruned first.',
    parse: (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new Error('must be a whole number ≥ 1');
      return n;
    },
  }),
  spec({
    key: 'web', flag: '--web', env: 'NODESCOPE_WEB', default: false,
    describe: 'Record HTTP server and client traffic (node:http, fetch) and give each incoming request a correlation id that its calls, messages and state changes carry.',
    parse: parseBoolean,
  }),
  spec({
    key: 'trace_all', flag: '--trace-all', env: 'NODESCOPE_TRACE_ALL', default: true,
    describe: 'Follow the whole family from the start: every worker thread and child Node process (and their messages). false traces the attached or launched process\'s main thread only.',
    parse: parseBoolean,
  }),
  spec({
    key: 'allow_evaluate', flag: '--allow-evaluate', env: 'NODESCOPE_ALLOW_EVALUATE', default: false,
    describe: 'Let the evaluate tool run expressions inside the live target. Off by default: it executes code in someone\'s process.',
    parse: parseBoolean,
  }),
  spec({
    key: 'retention', flag: '--retention', env: 'NODESCOPE_RETENTION', default: {},
    describe: 'Per-type retention, e.g. "call=10m,log=1h": older events of those types are pruned; types not named are kept (lifecycle forever by default).',
    parse: parseRetention,
  }),
  spec({
    key: 'tools', flag: '--tools', env: 'NODESCOPE_TOOLS', default: [],
    describe: 'Modules that add tools, comma-separated: each exports `tools` (defineTool values) or a default one.',
    parse: (raw) => raw.split(',').map((p) => p.trim()).filter(Boolean),
  }),
  spec({
    key: 'tool_categories', flag: '--tool-categories', env: 'NODESCOPE_TOOL_CATEGORIES', default: DEFAULT_CATEGORIES,
    describe: `Tool categories the MCP server lists, comma-separated: ${CATEGORIES.join(', ')}, or all. Fewer tools cost the model less context; the others still answer when called by name (\`nodescope call\` reaches every tool).`,
    parse: parseCategories,
  }),
  spec({
    key: 'persist', flag: '--persist', env: 'NODESCOPE_PERSIST', default: false,
    describe: 'Write the trace to a SQLite file (persist_path) instead of memory, for later queries.',
    parse: parseBoolean,
  }),
  spec({
    key: 'persist_path', flag: '--persist-path', env: 'NODESCOPE_PERSIST_PATH', default: 'nodescope-trace.db',
    describe: 'The SQLite file used with persist.',
    parse: (raw) => {
      if (!raw) throw new Error('must be a file path');
      return raw;
    },
  }),
  spec({
    key: 'export_dir', flag: '--export-dir', env: 'NODESCOPE_EXPORT_DIR', default: '',
    describe: 'The only folder export_trace and cpu_profile write into (a path given is a name below it; existing files nodescope did not write and symbolic links are refused). none: nodescope-exports next to the persisted trace, else nodescope-<uid>/exports in the OS temp folder.',
    parse: (raw) => {
      if (!raw) throw new Error('must be a folder path');
      return raw;
    },
  }),
  spec({
    key: 'redact', flag: '--redact', env: 'NODESCOPE_REDACT', default: DEFAULT_REDACT,
    describe: 'Case-insensitive regular expression; values under matching keys are stored as "[redacted]". It replaces the built-in secret words (password, secret, token, authorization, cookie, api key, private key, credential, session: whole words, any case style); secret-looking values (Bearer/Basic credentials, secret URL parameters, card numbers, key formats) are redacted whatever it says.',
    parse: (raw) => {
      new RegExp(raw, 'i');
      return raw;
    },
  }),
] as const;

export const DEFAULT_CONFIG: Config = Object.fromEntries(OPTIONS.map((o) => [o.key, o.default])) as unknown as Config;

/** A default as a person reads it: lists joined, empty ones as "none". */
export function showDefault(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(',') : 'none';
  if (v === '') return 'none';
  if (typeof v === 'object' && v !== null) return Object.keys(v).length ? JSON.stringify(v) : 'none';
  return String(v);
}

export const CONFIG_FILE = 'nodescope.config.json';

/**
 * Builds a configuration: flags (overrides) over environment variables over the configuration file over
 * defaults. The file is NODESCOPE_CONFIG, else ./nodescope.config.json when it exists. Errors name the bad key.
 */
export function resolveConfig(overrides: Partial<Record<keyof Config, string>> = {}, env: NodeJS.ProcessEnv = process.env, file: string | null = env.NODESCOPE_CONFIG ?? (existsSync(CONFIG_FILE) ? CONFIG_FILE : null)): Config {
  const config = { ...DEFAULT_CONFIG } as Record<keyof Config, unknown>;
  const fromFile = file ? readConfigFile(file) : {};
  for (const option of OPTIONS) {
    const raw = overrides[option.key] ?? env[option.env] ?? fromFile[option.key];
    if (raw === undefined) continue;
    const where = overrides[option.key] !== undefined ? option.flag : env[option.env] !== undefined ? option.env : `${option.key} in ${file}`;
    try {
      config[option.key] = option.parse(raw);
    } catch (error) {
      throw new Error(`invalid ${option.key} (${where}) "${raw}": ${(error as Error).message}`);
    }
  }
  if (file) config.tools = (config.tools as string[]).map((t) => (t.startsWith('.') ? resolve(dirname(resolve(file)), t) : t));
  return config as unknown as Config;
}

/** The file's values as the strings flags would give; unknown keys are errors. */
function readConfigFile(file: string): Partial<Record<keyof Config, string>> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the configuration file ${file}: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file} must hold a JSON object`);
  const known = OPTIONS.map((o) => o.key as string);
  const out: Partial<Record<keyof Config, string>> = {};
  for (const [key, value] of Object.entries(json)) {
    if (!known.includes(key)) throw new Error(`unknown key "${key}" in ${file}; known keys: ${known.join(', ')}`);
    out[key as keyof Config] = Array.isArray(value)
      ? value.join(',')
      : value !== null && typeof value === 'object'
        ? Object.entries(value).map(([k, v]) => `${k}=${v}`).join(',')
        : String(value);
  }
  return out;
}
