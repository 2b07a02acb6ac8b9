// The shape every tool has: one value with its name, description, annotations, a flat zod schema whose
// `.describe()` strings are the user documentation, the shape of its structured answer, and a handler that
// returns text for the model plus ids, counts and values as structuredContent. Handlers just throw; the
// server's wrapper turns errors into answers.
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ModuleReport } from '../agent/modules.js';
import type { TrackResult } from '../agent/objects.js';
import type { Query } from '../query/index.js';
import type { TreeNode } from '../query/tree.js';
import type { ActorRow } from '../store/store.js';
import type { ProfileSummary } from '../trace/profile.js';
import type { ProbeInfo, ProbeRequest } from '../trace/probes.js';
import type { CurrentConfig } from '../session.js';
import type { Level } from '../shared/protocol.js';

/** What tools may use: nothing of CDP, SQLite or the MCP SDK leaks through this interface. */
export interface ToolContext {
  /** `web` switches HTTP capture on or off for the whole session first (as configure does); `progress` hears how it goes. */
  launch(command: string[], options: { cwd?: string; traceModules?: string[]; web?: boolean; progress?: Progress }): Promise<TargetSummary>;
  attach(target: string, options?: { web?: boolean; progress?: Progress }): Promise<TargetSummary>;
  detach(): Promise<{ detached: number[] }>;
  /** Detaches everything and checkpoints a persisted trace. */
  stop(): Promise<{ detached: number[]; events: number; file: string | null }>;
  supervisionTree(): TreeNode[];
  /** Problems met while following the family, worth telling the model about. */
  warnings(): string[];
  /** Traces a module in every thread of the family, now and in threads that appear later. */
  traceModule(spec: { module: string; functions?: string[]; maxCalls: number; maxPerSecond: number; durationMs: number; capture?: 'timing' }): Promise<{ actor: string; value: ModuleReport }[]>;
  /** Stops a module trace everywhere (any spelling of its name); the target's functions are the originals again. */
  untraceModule(name: string): Promise<{ actor: string; value: ModuleReport }[]>;
  /** Stops tracking an object (its actor id): its calls pass straight through from now on. */
  untrack(actor: string): Promise<boolean>;
  /** Every active module trace, per thread: mechanism, limits, calls so far. */
  traces(): Promise<{ actor: string; value: ModuleReport }[]>;
  /** Finds an object by registered name or path in every thread and tracks it. */
  track(ref: string): Promise<{ actor: string; value: TrackResult }[]>;
  /** Live instances of a class in every thread (a heap walk), tracked so each gets an actor id. */
  findInstances(className: string): Promise<{ actor: string; value: TrackResult }[]>;
  /** Process and thread facts read live from the target (memory, CPU, event loop, resources). */
  processInfo(actor: string): Promise<Record<string, unknown>>;
  /** Samples a thread's CPU for a bounded time; writes the .cpuprofile and summarizes it. */
  cpuProfile(actor: string, durationMs: number, progress?: Progress): Promise<ProfileSummary>;
  /** Runs an expression in a live thread, if the server allows it. */
  evaluate(actor: string, expression: string): Promise<{ value: unknown; error?: string }>;
  /** Changes what is recorded while tracing runs; answers the configuration now in force. */
  configure(changes: { level?: Level; sampleRate?: number; maxEvents?: number; retention?: Record<string, number>; web?: boolean }): Promise<CurrentConfig>;
  /**
   * Writes an export file below the one folder nodescope owns for them (export_dir): `path` is a name below
   * it (a fresh `fallbackName` when absent); escapes, symlinks and files nodescope did not write are refused.
   * Answers the absolute path written.
   */
  writeExport(path: string | undefined, text: string, fallbackName: string): string;
  /** trace_line: a non-pausing probe at a source line in every thread of the family. */
  traceLine(request: ProbeRequest): Promise<ProbeInfo>;
  /** Removes one probe (by id) or all of them; answers what was removed. */
  untraceLine(id?: string): Promise<ProbeInfo[]>;
  /** Probes set in this session: active, stopped and where they are installed. */
  probes(): ProbeInfo[];
  /**
   * Brings the recorded trace up to this moment (agents send what they hold), waiting a bounded time for it
   * to be written. Answers the events still being written (left out), if known.
   */
  sync(): Promise<number | void>;
  /**
   * sync() before a read-only tool's answer, bounded under a flood: answers a note on what the answer may
   * lack (events still being written, threads too busy to hand theirs over), appended to it.
   */
  syncForQuestion?(): Promise<string | undefined>;
  /** Threads the last question found busy with a flood (not waited for): a tool asking them live need not wait either. */
  busyThreads?(): string[];
  /** Read-only questions over the recorded trace, as written (a read-only tool's sync() came first). */
  readonly query: ToolQuery;
  /** An actor by id, bare pid or name; throws a message that lists what exists. */
  resolveActor(ref: string): ActorRow;
  /** Resolves once an attach or launch begun at server start is done; throws while it is still under way. */
  ready?(): Promise<void>;
}

/** The query layer without its store: tools ask questions, they do not write SQL. */
export type ToolQuery = Omit<Query, 'store'>;

export interface TargetSummary {
  pid: number;
  actor: string;
  url: string;
  tree: TreeNode[];
}

export interface ToolAnswer {
  text: string;
  data: Record<string, unknown>;
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  schema: Shape;
  /**
   * The shape of `data` (structuredContent), listed as the tool's outputSchema. Optional for tools a project
   * adds; every built-in tool has one (test/unit/tool_schemas.test.ts).
   */
  output?: z.ZodRawShape;
  handler(args: z.infer<z.ZodObject<Shape>>, ctx: ToolContext, progress: Progress): Promise<ToolAnswer>;
}

export function defineTool<Shape extends z.ZodRawShape>(definition: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return definition;
}

/** Reports progress of long work (MCP progress notifications when the client asked for them). */
export type Progress = (done: number, total?: number, message?: string) => void;

/** An error whose message tells the model what to do next. */
export class ToolError extends Error {}

// Two sets of annotations for every tool. The MCP defaults assume the worst (not read-only, destructive);
// destructiveHint and idempotentHint mean nothing for a read-only tool, and openWorldHint is left at its
// default: tools/list is sent on every turn, and 378 of its 4,439 tokens were annotations.
/** Tools that only read, the recorded trace or the live target: the server brings the trace up to date first. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true };
/** Tools that change what is traced or run (readOnlyHint false is the default); none loses recorded data. */
export const ACTION: ToolAnnotations = { destructiveHint: false };
