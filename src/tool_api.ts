// `nodescope/tools`: what a module of custom tools needs, and nothing that opens a database or a socket.
// zod comes from here so that a tool's schema is built by the same zod the server validates with.
export { defineTool, ToolError, READ_ONLY, ACTION, type ToolDefinition, type ToolContext, type ToolAnswer, type Progress, type TargetSummary } from './tools/define.js';
export { z } from 'zod';
