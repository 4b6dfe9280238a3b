// The one import of the event-loop WebSocket: a VU holds many connections at once.
// `k6/websockets` exists from k6 v1.6.0 on; `k6/experimental/websockets` is a
// deprecated alias there that warns (grafana/k6 internal/js/jsmodules.go, v1.6.0).
export { WebSocket } from "k6/websockets";
export type { MessageEvent } from "k6/websockets";

/** WebSocket.readyState values (the WHATWG spec's, which k6 follows). */
export const OPEN = 1;
