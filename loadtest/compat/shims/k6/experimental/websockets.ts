// Compat shim for `k6/experimental/websockets`: the `ws` package behind k6's
// handler properties (onopen, onmessage, onclose, onerror).
import NodeWebSocket from "ws";

export class WebSocket {
  private readonly socket: NodeWebSocket;
  onopen: () => void = () => {};
  onmessage: (event?: { data: string }) => void = () => {};
  onclose: () => void = () => {};
  onerror: (event?: { error: string }) => void = () => {};

  constructor(url: string) {
    this.socket = new NodeWebSocket(url);
    this.socket.on("open", () => this.onopen());
    this.socket.on("message", (data, isBinary) => {
      if (!isBinary) this.onmessage({ data: data.toString() });
    });
    this.socket.on("close", () => this.onclose());
    this.socket.on("error", (error) => this.onerror({ error: error.message }));
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string): void {
    if (this.socket.readyState === NodeWebSocket.OPEN) this.socket.send(data);
  }

  close(): void {
    this.socket.close();
  }
}
