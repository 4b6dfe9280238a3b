/**
 * A TCP proxy between a service and PostgreSQL (node:net, loopback only) that can
 * lose the reply to a COMMIT or cut every connection, on demand.
 *
 * Losing a COMMIT reply is the nasty case of a network fault: the server has made
 * the transaction durable, the client only sees its connection die, so it cannot
 * tell a committed write from a lost one. To do that the proxy follows the
 * PostgreSQL wire protocol from the server (messages are a type byte and a
 * 32-bit length, after an optional one-byte SSL answer) and, when it sees
 * CommandComplete "COMMIT", destroys both sockets instead of forwarding it.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export type ProxyMode =
  | { kind: "pass" }
  /** Lose the reply of every `every`-th COMMIT (counted across connections), at most `limit` times. */
  | { kind: "drop-commit-reply"; every: number; limit: number };

export interface ProxyStats {
  connections: number;
  commitsSeen: number;
  commitRepliesDropped: number;
  connectionsCut: number;
}

const SSL_REQUEST_CODE = 80877103;
const COMMAND_COMPLETE = 0x43; // 'C'

interface Pair {
  client: Socket;
  server: Socket;
}

export class PostgresProxy {
  private mode: ProxyMode = { kind: "pass" };
  private readonly pairs = new Set<Pair>();
  readonly stats: ProxyStats = { connections: 0, commitsSeen: 0, commitRepliesDropped: 0, connectionsCut: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `target` (also loopback). */
  static async start(target: { host: string; port: number }): Promise<PostgresProxy> {
    if (target.host !== "127.0.0.1" && target.host !== "localhost") throw new Error("the proxy only forwards to loopback");
    let proxy: PostgresProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== "object") throw new Error("proxy has no address");
    proxy = new PostgresProxy(server, address.port);
    return proxy;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Destroys every open connection (both ends); returns how many. */
  cutAll(): number {
    const count = this.pairs.size;
    for (const pair of [...this.pairs]) this.cut(pair);
    this.stats.connectionsCut += count;
    return count;
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    for (const pair of [...this.pairs]) this.cut(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private cut(pair: Pair): void {
    pair.client.destroy();
    pair.server.destroy();
    this.pairs.delete(pair);
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const server = connect(target.port, target.host);
    const pair: Pair = { client, server };
    this.pairs.add(pair);
    this.stats.connections += 1;
    client.setNoDelay(true);
    server.setNoDelay(true);
    const close = () => this.cut(pair);
    client.on("error", close).on("close", close);
    server.on("error", close).on("close", close);

    let firstClientChunk = true;
    let sslAnswerPending = false;
    client.on("data", (chunk: Buffer) => {
      if (firstClientChunk) {
        firstClientChunk = false;
        // SSLRequest: length 8, code 80877103; the server answers with one bare byte.
        if (chunk.length >= 8 && chunk.readInt32BE(0) === 8 && chunk.readInt32BE(4) === SSL_REQUEST_CODE) sslAnswerPending = true;
      }
      server.write(chunk);
    });

    let pending: Buffer = Buffer.alloc(0);
    server.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      if (sslAnswerPending && pending.length > 0) {
        sslAnswerPending = false;
        offset = 1;
      }
      // Forward whole messages; keep a partial one for the next chunk.
      while (pending.length - offset >= 5) {
        const length = pending.readInt32BE(offset + 1);
        const end = offset + 1 + length;
        if (pending.length < end) break;
        if (pending[offset] === COMMAND_COMPLETE && this.isCommit(pending, offset + 5, end)) {
          this.stats.commitsSeen += 1;
          if (this.shouldDrop()) {
            // Forward what came before the reply, then lose the reply and the connection.
            if (offset > 0) client.write(pending.subarray(0, offset));
            this.stats.commitRepliesDropped += 1;
            client.destroy();
            server.destroy();
            this.pairs.delete(pair);
            pending = Buffer.alloc(0);
            return;
          }
        }
        offset = end;
      }
      if (offset > 0) client.write(pending.subarray(0, offset));
      pending = pending.subarray(offset);
    });
  }

  private isCommit(buffer: Buffer, start: number, end: number): boolean {
    // CommandComplete's tag is a C string: "COMMIT\0".
    return end - start === 7 && buffer.toString("latin1", start, end - 1) === "COMMIT";
  }

  private shouldDrop(): boolean {
    const mode = this.mode;
    if (mode.kind !== "drop-commit-reply") return false;
    if (this.stats.commitRepliesDropped >= mode.limit) return false;
    return this.stats.commitsSeen % mode.every === 0;
  }
}
