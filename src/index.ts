// The package's API: the same objects the CLI and the MCP server use.
export { createServer, callTool } from './server.js';
export { Session, type SessionOptions } from './session.js';
export { resolveConfig, DEFAULT_CONFIG, OPTIONS, type Config } from './config.js';
export { Store, type StoreOptions, type EventRow, type StoredEvent, type ActorRow } from './store/store.js';
export { Tracer, DEFAULT_REDACT, type TracerOptions } from './trace/tracer.js';
export { TOOLS } from './tools/registry.js';
export { defineTool, ToolError, READ_ONLY, type ToolDefinition, type ToolContext, type ToolAnswer, type Progress } from './tools/define.js';
export { loadTools } from './extensions.js';
// zod as the server uses it, for custom tools' schemas (also in `nodescope/tools`).
export { z } from 'zod';
export { setup, NodeScope, type SetupOptions, type Answer } from './api.js';
export { supervisionTree, renderTree, type TreeNode } from './query/tree.js';
export { LEVELS, type Level } from './shared/protocol.js';
