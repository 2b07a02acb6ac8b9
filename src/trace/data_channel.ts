// The host end of the agents' data channel (src/agent/channel.ts): a Unix socket in a private folder (0700,
// created by mkdtemp) that each agent thread connects to. The first line an agent sends is `<secret> <actor>`;
// a connection that does not start with the session's secret is closed unread. After it, every line is one
// batch in the same JSON text the binding carries, handed to the thread's receiver, or the answer of a host
// call (src/trace/thread.ts, ThreadLink.call), which comes this way sooner. The host's first answer, right
// after the hello, says where it is (a sequence number on a line); later acks come the same way to a main
// thread, and through the inspector to a worker (ThreadLink.ack says why).
// Batches keep their sequence numbers, so the receiver's dedup and gap check work across both paths.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ANSWER_MARK } from '../shared/protocol.js';
import { privateDir } from '../store/private_dir.js';

export interface DataReceiver {
  receive(text: string): void;
  /** A host call's answer (`<ANSWER_MARK><id> <json>`), written by the agent after the batches the call sent. */
  answered(line: string): void;
  /** The last sequence number the receiver has: the first ack after a hello. */
  lastSeq(): number;
}

/** Longest hello line accepted (a secret, a space and an actor id): a stranger cannot make us buffer more. */
const MAX_HELLO = 256;

export class DataChannel {
  readonly dir: string;
  readonly path: string;
  private readonly secret = randomBytes(24).toString('hex');
  private readonly server: Server;
  private readonly receivers = new Map<string, DataReceiver>();
  private readonly sockets = new Map<string, Socket>();
  /** Each thread's control socket: the host's requests to its agent (Channel.openControl). */
  private readonly controls = new Map<string, Socket>();
  /** Connections refused (wrong secret, unknown actor): for tests and diagnostics. */
  refused = 0;
  /** Host call answers read, by thread: for tests and diagnostics. */
  readonly answers = new Map<string, number>();

  constructor() {
    // Named by our pid: a folder left by a nodescope that was killed is swept by the next one.
    this.dir = privateDir('nodescope-data-');
    chmodSync(this.dir, 0o700);
    this.path = join(this.dir, 'data.sock');
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', () => undefined);
    this.server.listen(this.path);
    // Our own process must not stay alive for the server's sake either.
    this.server.unref();
  }

  /** What the agents are told (AgentConfig.data). */
  agentConfig(): { path: string; secret: string; hostPid: number } {
    return { path: this.path, secret: this.secret, hostPid: process.pid };
  }

  /**
   * The returned function forgets the receiver once the thread's socket has been read to its end (at once
   * when it has none): nothing orders a worker's detach (NodeWorker.detachedFromWorker, through its parent's
   * inspector session) after the last batches its agent wrote to the socket, and a line read after it was
   * dropped. (In test/capture/worker_end.test.ts the socket outran the detach every time.)
   */
  register(actor: string, receiver: DataReceiver): () => void {
    this.receivers.set(actor, receiver);
    const forget = () => {
      if (this.receivers.get(actor) === receiver) this.receivers.delete(actor);
    };
    return () => {
      const socket = this.sockets.get(actor);
      if (socket && !socket.destroyed) socket.once('close', forget);
      else forget();
    };
  }

  /** Acks waiting for the end of this turn's reads, by socket. */
  private readonly acks = new Map<Socket, number>();

  /**
   * Sends an ack on the thread's socket; false when it has none (the caller acks through the inspector).
   * Written once this turn of the event loop has read what the sockets hold: a worker terminated right after
   * its last batches has closed its end, and writing to it fails (EPIPE), which destroys our socket with the
   * batches still unread in it (a worker terminated on its last message lost its last 2–13 of 16 batches).
   */
  ack(actor: string, seq: number): boolean {
    const socket = this.sockets.get(actor);
    if (!socket || socket.destroyed || !socket.writable) return false;
    if (this.acks.size === 0) setImmediate(() => this.writeAcks());
    this.acks.set(socket, seq);
    return true;
  }

  private writeAcks(): void {
    for (const [socket, seq] of this.acks) if (!socket.destroyed && socket.writable) socket.write(`${seq}\n`);
    this.acks.clear();
  }

  /**
   * Writes a request on the thread's control socket (`F<id>`: flush and answer; `A<seq>`: ack); false when it
   * has none (the caller asks through the inspector). A write that fails ends only that socket.
   */
  request(actor: string, line: string): boolean {
    const socket = this.controls.get(actor);
    if (!socket || socket.destroyed || !socket.writable) return false;
    socket.write(`${line}\n`);
    return true;
  }

  connected(actor: string): boolean {
    const socket = this.sockets.get(actor);
    return socket !== undefined && !socket.destroyed;
  }

  /** Test hook: drops a thread's connection as a failing socket would, losing whatever it had not read. */
  drop(actor: string): void {
    this.sockets.get(actor)?.destroy();
  }

  close(): void {
    this.server.close();
    for (const s of [...this.sockets.values(), ...this.controls.values()]) s.destroy();
    this.sockets.clear();
    this.controls.clear();
    this.receivers.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    let buffer = '';
    let actor: string | undefined;
    let receiver: DataReceiver | undefined;
    let control = false;
    setTimeout(() => receiver ?? socket.destroy(), 5_000).unref();
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let start = 0;
      let nl: number;
      while ((nl = buffer.indexOf('\n', start)) >= 0) {
        const line = buffer.slice(start, nl);
        start = nl + 1;
        if (control) continue; // the agent writes nothing on it after its hello
        if (receiver) {
          // To whoever listens for the thread now: after a reconnect of its inspector session the link
          // registers again (the socket stays up); after a detach nobody does, and the line is dropped.
          const to = this.receivers.get(actor!);
          if (line.startsWith(ANSWER_MARK)) {
            this.answers.set(actor!, (this.answers.get(actor!) ?? 0) + 1);
            to?.answered(line);
          } else to?.receive(line);
          continue;
        }
        const [secret, id, role] = line.split(' ');
        receiver = id === undefined ? undefined : this.receivers.get(id);
        if (!receiver || !this.authentic(secret ?? '') || (role !== undefined && role !== 'control')) {
          this.refused++;
          socket.destroy();
          return;
        }
        actor = id!;
        if (role === 'control') {
          control = true;
          this.controls.get(actor)?.destroy();
          this.controls.set(actor, socket);
          continue;
        }
        this.sockets.get(actor)?.destroy();
        this.sockets.set(actor, socket);
        socket.write(`${receiver.lastSeq()}\n`);
      }
      buffer = start > 0 ? buffer.slice(start) : buffer;
      // A partial line at the end is a batch still arriving (or cut by a crash: never completed, never stored).
      if (!receiver && buffer.length > MAX_HELLO) {
        this.refused++;
        socket.destroy();
      }
    });
    socket.on('close', () => {
      if (actor === undefined) return;
      if (this.sockets.get(actor) === socket) this.sockets.delete(actor);
      if (this.controls.get(actor) === socket) this.controls.delete(actor);
    });
  }

  private authentic(secret: string): boolean {
    const given = Buffer.from(secret);
    const expected = Buffer.from(this.secret);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
