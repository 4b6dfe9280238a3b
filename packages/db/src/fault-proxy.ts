/**
 * A TCP proxy between a service and PostgreSQL (node:net, loopback only) that can
 * lose the reply to a COMMIT, cut every connection, or refuse new ones, on demand.
 * Test and fault-suite only; the one proxy the messenger's, the SDK's and the fault
 * suite's tests share.
 *
 * Losing a COMMIT reply is the nasty case of a network fault: the server has made
 * the transaction durable, the client only sees its connection die, so it cannot
 * tell a committed write from a lost one. To do that the proxy follows the
 * PostgreSQL wire protocol from the server (messages are a type byte and a 32-bit
 * length, after an optional one-byte SSL answer) and, when it sees CommandComplete
 * "COMMIT", forwards what came before it and closes both sockets instead of
 * forwarding the reply (or, black-holing, forwards nothing more and keeps both open).
 * Client-to-server bytes pass untouched (postgres.js sends
 * COMMIT as a prepared statement, so its text is not on the wire after the first
 * time; the reply's tag always is).
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export type ProxyMode =
  | { kind: "pass" }
  /** Lose the reply of every `every`-th COMMIT (counted across connections), at most `limit` times. */
  | { kind: "drop-commit-reply"; every: number; limit: number };

export interface ProxyStats {
  connections: number;
  commitsSeen: number;
  commitRepliesDropped: number;
  connectionsCut: number;
  /** Chunks read from clients: on loopback with Nagle off, about one per client write (round trips, for tests). */
  clientWrites: number;
}

const SSL_REQUEST_CODE = 80877103;
const COMMAND_COMPLETE = 0x43; // 'C'

interface Pair {
  client: Socket;
  server: Socket;
}

export class PostgresFaultProxy {
  private mode: ProxyMode = { kind: "pass" };
  /** One-shot drops asked for by `dropNextCommitReply()`, each with its waiter and whether the connection stays open. */
  private readonly armed: { resolve: () => void; blackHole: boolean }[] = [];
  private blocked = false;
  private readonly pairs = new Set<Pair>();
  readonly stats: ProxyStats = { connections: 0, commitsSeen: 0, commitRepliesDropped: 0, connectionsCut: 0, clientWrites: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `target`: a PostgreSQL URL, or a loopback host and port. */
  static async start(target: string | { host: string; port: number }): Promise<PostgresFaultProxy> {
    const upstream =
      typeof target === "string"
        ? { host: new URL(target).hostname, port: Number(new URL(target).port || 5432) }
        : target;
    if (upstream.host !== "127.0.0.1" && upstream.host !== "localhost") throw new Error("the proxy only forwards to loopback");
    let proxy: PostgresFaultProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, upstream));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== "object") throw new Error("proxy has no address");
    proxy = new PostgresFaultProxy(server, address.port);
    return proxy;
  }

  /** `databaseUrl` with its host and port replaced by this proxy's. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    return url.toString();
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Drops the reply of the next COMMIT (on any connection); resolves once it has. */
  dropNextCommitReply(): Promise<void> {
    return new Promise((resolve) => this.armed.push({ resolve, blackHole: false }));
  }

  /**
   * Swallows the reply of the next COMMIT and everything after it on that connection,
   * which stays open: a network that silently stops delivering (a dead NAT entry, a
   * cable pulled on the far side), so the client waits for an answer that never comes
   * until TCP keep-alive gives up, minutes later. Resolves once the reply is swallowed.
   */
  blackHoleNextCommitReply(): Promise<void> {
    return new Promise((resolve) => this.armed.push({ resolve, blackHole: true }));
  }

  /** COMMIT replies dropped so far. */
  get droppedCommitReplies(): number {
    return this.stats.commitRepliesDropped;
  }

  /** PostgreSQL goes away: every connection is cut and new ones are refused until `unblock()`. */
  block(): void {
    this.blocked = true;
    this.cutAll();
  }

  unblock(): void {
    this.blocked = false;
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
    if (this.blocked) {
      client.destroy();
      return;
    }
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
      this.stats.clientWrites += 1;
      server.write(chunk);
    });

    let pending: Buffer = Buffer.alloc(0);
    let lost = false;
    server.on("data", (chunk: Buffer) => {
      if (lost) return;
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
        if (pending[offset] === COMMAND_COMPLETE && isCommit(pending, offset + 5, end)) {
          this.stats.commitsSeen += 1;
          const waiter = this.armed.shift();
          if (waiter || this.modeDrops()) {
            lost = true;
            this.stats.commitRepliesDropped += 1;
            if (waiter?.blackHole) {
              // What came before the reply still arrives; the reply and all after it never do.
              if (offset > 0) client.write(pending.subarray(0, offset));
            } else {
              // What came before the reply still arrives; then the reply and the connection are gone.
              this.pairs.delete(pair);
              client.end(pending.subarray(0, offset));
              server.destroy();
            }
            pending = Buffer.alloc(0);
            waiter?.resolve();
            return;
          }
        }
        offset = end;
      }
      if (offset > 0) client.write(pending.subarray(0, offset));
      pending = pending.subarray(offset);
    });
  }

  private modeDrops(): boolean {
    const mode = this.mode;
    if (mode.kind !== "drop-commit-reply") return false;
    if (this.stats.commitRepliesDropped >= mode.limit) return false;
    return this.stats.commitsSeen % mode.every === 0;
  }
}

/** CommandComplete's tag is a C string: "COMMIT\0". */
function isCommit(buffer: Buffer, start: number, end: number): boolean {
  return end - start === 7 && buffer.toString("latin1", start, end - 1) === "COMMIT";
}
