/**
 * PGlite served over the PostgreSQL wire protocol on 127.0.0.1, for `pg` clients, one whole request at a time.
 *
 * Why not @electric-sql/pglite-socket's PGLiteSocketServer (0.2.17): it queues single protocol *messages* across
 * connections and keeps a connection's turn only while a transaction is open. PGlite has one backend for all its
 * connections, and an extended-protocol query (Parse, Bind, Describe, Execute, Sync) is not in a transaction
 * between its messages, so two connections' queries interleave on that backend: one's Parse replaces the
 * other's unnamed statement, or a simple query (`BEGIN`) drops it, and the other gets "unnamed prepared
 * statement does not exist", another statement's rows, or — when an error makes the backend skip messages up
 * to the next Sync, and those were another connection's — no reply at all, and waits forever. A message that
 * throws inside PGlite also leaves its queue marked busy for good. Reported upstream as electric-sql/pglite#1046.
 * A pool of `pg` connections with background work running beside foreground calls meets both (the SDK suite's
 * scheduled consolidation did, test/consolidate.test.ts).
 *
 * Here a connection's messages are cut into *requests* — a simple Query, or the extended-protocol messages up to
 * and including their Sync (or a Flush) — and requests run whole, one at a time, in arrival order. While PGlite is
 * inside a transaction (or mid-request after a Flush), only the connection that opened it runs; a connection that
 * goes away holding the transaction has it rolled back. A request PGlite throws on closes that connection only.
 * PGlite remains one session: session settings, advisory locks and LISTEN are shared by all connections.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Frontend messages that end a request: Query, Sync, Flush, FunctionCall, CopyDone, CopyFail. */
const REQUEST_END = new Set(["Q", "S", "H", "F", "c", "f"].map((c) => c.charCodeAt(0)));
const TERMINATE = "X".charCodeAt(0);
const FLUSH = "H".charCodeAt(0);

interface Connection {
  readonly socket: Socket;
  /** Bytes received and not yet cut into messages. */
  buffer: Buffer;
  /** Complete messages of the request being received. */
  pending: Buffer[];
  /** The startup message has been read (until then messages have no type byte). */
  started: boolean;
  closed: boolean;
}

interface Request {
  readonly connection: Connection;
  readonly bytes: Uint8Array;
  /** Ends with Flush: the client waits for a reply mid-request, and its next request continues this one. */
  readonly flush: boolean;
}

export class PgliteServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly queue: Request[] = [];
  /** The connection whose requests alone may run next (it holds PGlite's transaction, or is mid-request). */
  private owner: Connection | undefined;
  private running: Promise<void> | undefined;
  private port = 0;

  constructor(private readonly db: PGlite) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.url;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Stops listening, closes every connection and waits for the request that is running. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) this.drop(connection);
    await this.running;
    await closed;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const connection: Connection = { socket, buffer: Buffer.alloc(0), pending: [], started: false, closed: false };
    this.connections.add(connection);
    socket.on("data", (data) => this.receive(connection, data));
    socket.on("error", () => this.drop(connection));
    socket.on("close", () => this.drop(connection));
  }

  /** Cuts complete messages off the connection's bytes, queueing each request as soon as it is whole. */
  private receive(connection: Connection, data: Buffer): void {
    connection.buffer = connection.buffer.length ? Buffer.concat([connection.buffer, data]) : data;
    for (;;) {
      const { buffer } = connection;
      if (!connection.started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        connection.buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          connection.socket.write("N");
        } else if (code === CANCEL_REQUEST) {
          this.drop(connection); // not supported; a cancel request's connection carries nothing else
          return;
        } else {
          connection.started = true;
          this.enqueue({ connection, bytes: buffer.subarray(0, length), flush: false });
        }
        continue;
      }
      if (buffer.length < 5) return;
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) return;
      const type = buffer[0]!;
      const message = buffer.subarray(0, length);
      connection.buffer = buffer.subarray(length);
      if (type === TERMINATE) {
        this.drop(connection);
        return;
      }
      connection.pending.push(message);
      if (REQUEST_END.has(type)) {
        const bytes = Buffer.concat(connection.pending);
        connection.pending = [];
        this.enqueue({ connection, bytes, flush: type === FLUSH });
      }
    }
  }

  private enqueue(request: Request): void {
    this.queue.push(request);
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  private next(): Request | undefined {
    const index = this.owner ? this.queue.findIndex((r) => r.connection === this.owner) : 0;
    return index < 0 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async run(): Promise<void> {
    for (let request = this.next(); request; request = this.next()) {
      const { connection } = request;
      if (connection.closed) continue;
      try {
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(request.bytes, {
            onRawData: (chunk) => {
              if (!connection.closed) connection.socket.write(Buffer.from(chunk));
            },
          }),
        );
        this.owner = request.flush || this.db.isInTransaction() ? connection : undefined;
      } catch {
        this.drop(connection); // PGlite threw rather than answering: that connection's state is unknown
        await this.release(connection);
      }
      if (connection.closed) await this.release(connection);
    }
  }

  /** Ends a connection: its queued requests are dropped; a transaction it holds is rolled back by `run`. */
  private drop(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.connections.delete(connection);
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.connection === connection) this.queue.splice(i, 1);
    connection.socket.destroy();
    // Let `run` release PGlite from this connection (it may be waiting for a request of the owner's).
    if (this.owner === connection) this.running ??= this.release(connection).then(() => this.run()).finally(() => (this.running = undefined));
  }

  /** Rolls back the transaction a closed connection left open, and gives the turn to the others. */
  private async release(connection: Connection): Promise<void> {
    if (this.owner !== connection) return;
    this.owner = undefined;
    // exec takes PGlite's query lock itself (the one runExclusive holds: it must not be called inside it).
    if (this.db.isInTransaction()) await this.db.exec("ROLLBACK").catch(() => undefined);
  }
}
