/**
 * A TCP proxy between a service and PostgreSQL that can lose the reply to a
 * COMMIT: PostgreSQL has committed, the service sees its connection drop, so a
 * durable write looks failed. Test-only, 127.0.0.1 only.
 *
 * It frames what the server sends (every backend message is a type byte and an
 * int32 length) and, when armed, cuts both sides at the first CommandComplete
 * whose tag is COMMIT, forwarding everything before it. Client-to-server bytes
 * pass untouched (postgres.js sends COMMIT as a prepared statement, so its text
 * is not on the wire after the first time; the reply's tag always is).
 */
import net from "node:net";

export class PgFaultProxy {
  private armed = 0;
  private blocked = false;
  private waiters: (() => void)[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** COMMIT replies dropped so far. */
  droppedCommitReplies = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free port and forwards to the PostgreSQL of `databaseUrl`. */
  static async start(databaseUrl: string): Promise<PgFaultProxy> {
    const target = new URL(databaseUrl);
    const holder: { proxy?: PgFaultProxy } = {};
    const server = net.createServer((client) => holder.proxy!.accept(client, target.hostname, Number(target.port || 5432)));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    holder.proxy = new PgFaultProxy(server, (server.address() as net.AddressInfo).port);
    return holder.proxy;
  }

  /** `databaseUrl` with its host and port replaced by this proxy's. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    return url.toString();
  }

  /** Drops the reply of the next COMMIT (on any connection); resolves once it has. */
  dropNextCommitReply(): Promise<void> {
    this.armed += 1;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** PostgreSQL goes away: every connection is cut and new ones are refused until `unblock()`. */
  block(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, host: string, port: number): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);

    let pending: Buffer = Buffer.alloc(0);
    let cut = false;
    upstream.on("data", (chunk: Buffer) => {
      if (cut) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 5) {
        const length = pending.readInt32BE(offset + 1);
        if (pending.length - offset < 1 + length) break;
        const isCommitReply =
          pending[offset] === 0x43 && pending.toString("latin1", offset + 5, offset + length) === "COMMIT";
        if (isCommitReply && this.armed > 0) {
          this.armed -= 1;
          this.droppedCommitReplies += 1;
          // Everything before the reply still arrives; then the connection is gone.
          cut = true;
          client.end(pending.subarray(0, offset));
          this.waiters.shift()?.();
          return;
        }
        offset += 1 + length;
      }
      if (offset > 0) {
        client.write(pending.subarray(0, offset));
        pending = pending.subarray(offset);
      }
    });
  }
}
