/**
 * A TCP proxy in front of Facebook's HTTP port for the e2e fault tests: it passes
 * everything through, and on demand interferes with `ingest.batch` requests, the
 * share pipeline's road to Facebook:
 *  - `dropReplies` > 0: the next such request is forwarded, but its answer is
 *    dropped and the connection cut (Facebook committed the batch, the shipper
 *    never hears so);
 *  - `delayMs` > 0: each such request is held that long before it goes on (the
 *    connection's later chunks wait behind it, in order).
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export class IngestProxy {
  dropReplies = 0;
  /** Answers dropped so far. */
  dropped = 0;
  delayMs = 0;
  /** ingest.batch requests held right now. */
  holding = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on `port` of 127.0.0.1 and forwards to Facebook's port as `target` says at each connection. */
  static async start(port: number, target: () => number): Promise<IngestProxy> {
    const server = createServer();
    const proxy = new IngestProxy(server, port);
    server.on("connection", (client) => {
      const upstream = connect(target(), "127.0.0.1");
      proxy.sockets.add(client).add(upstream);
      let dropThis = false;
      let queue = Promise.resolve();
      client.on("data", (chunk: Buffer) => {
        const ingest = chunk.toString("latin1").includes("ingest.batch");
        if (ingest && !dropThis && proxy.dropReplies > 0) {
          dropThis = true;
          proxy.dropReplies -= 1;
        }
        const delay = ingest ? proxy.delayMs : 0;
        queue = queue.then(async () => {
          if (delay > 0) {
            proxy.holding += 1;
            await new Promise((resolve) => setTimeout(resolve, delay));
            proxy.holding -= 1;
          }
          if (!upstream.destroyed) upstream.write(chunk);
        });
      });
      upstream.on("data", (chunk: Buffer) => {
        if (dropThis) {
          proxy.dropped += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
