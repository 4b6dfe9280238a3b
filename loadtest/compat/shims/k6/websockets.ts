// Compat shim for `k6/websockets` over the `ws` package, strict where k6 is
// (grafana/k6 internal/js/modules/k6/websockets/websockets.go):
// - send() on a socket that is not OPEN throws InvalidStateError (assertStateOpen);
// - events carry `timestamp` (ms, when the frame was read), message events `data`;
// - close() on a CONNECTING socket throws here: in k6 it blocks the VU's event loop
//   (an unbuffered channel only drained once the handshake is done), so a script
//   that does it is wrong even though k6 itself would not say so.
// Emits ws_connecting and ws_sessions like k6.
import NodeWebSocket from "ws";
import { registry } from "../../registry";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string | number | boolean>;
}

type Handler<E> = ((event?: E) => void) | null;

export class WebSocket {
  private readonly socket: NodeWebSocket;
  private state = CONNECTING;
  onopen: Handler<{ type: string; timestamp: number }> = null;
  onmessage: Handler<{ type: string; data: string; timestamp: number }> = null;
  onclose: Handler<{ type: string; timestamp: number }> = null;
  onerror: Handler<{ type: string; error: string; timestamp: number }> = null;

  constructor(url: string, protocols?: null, params: Params = {}) {
    if (!/^wss?:\/\//.test(url)) throw new Error(`WebSocket requires url with scheme ws or wss, but got "${url}"`);
    if (protocols !== undefined && protocols !== null) throw new Error("websockets shim: subprotocols are not used by the scripts");
    const tags = { url, name: String(params.tags?.name ?? url), ...params.tags };
    const started = performance.now();
    this.socket = new NodeWebSocket(url, { headers: params.headers });
    this.socket.on("open", () => {
      registry.add("ws_connecting", performance.now() - started, tags);
      registry.add("ws_sessions", 1, tags);
      this.state = OPEN;
      this.onopen?.({ type: "open", timestamp: Date.now() });
    });
    this.socket.on("message", (data, isBinary) => {
      const timestamp = Date.now();
      if (this.state !== OPEN) return; // k6 drops frames for a socket no longer OPEN (queueMessage)
      registry.add("ws_msgs_received", 1, tags);
      if (!isBinary) this.onmessage?.({ type: "message", data: data.toString(), timestamp });
    });
    this.socket.on("close", () => {
      this.state = CLOSED;
      this.onclose?.({ type: "close", timestamp: Date.now() });
    });
    this.socket.on("error", (error) => this.onerror?.({ type: "error", error: error.message, timestamp: Date.now() }));
  }

  get readyState(): number {
    return this.state;
  }

  send(data: string): void {
    if (this.state !== OPEN) throw new Error("InvalidStateError");
    registry.add("ws_msgs_sent", 1);
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    if (this.state === CLOSING || this.state === CLOSED) return;
    if (this.state === CONNECTING) throw new Error("close() on a CONNECTING socket: k6 would block this VU until the handshake ends");
    this.state = CLOSING;
    this.socket.close(code, reason);
  }
}
