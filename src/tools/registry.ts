// Every built-in tool, sorted by name. The README's tool table is generated from this list.
import { attach } from './attach.js';
import type { ToolDefinition } from './define.js';
import { detach } from './detach.js';
import { get_supervision_tree } from './get_supervision_tree.js';
import { launch } from './launch.js';
import { trace_module } from './trace_module.js';
import { trace_named_process } from './trace_named_process.js';
import { trace_process } from './trace_process.js';

export const TOOLS: readonly ToolDefinition<any>[] = [attach, detach, get_supervision_tree, launch, trace_module, trace_named_process, trace_process];
