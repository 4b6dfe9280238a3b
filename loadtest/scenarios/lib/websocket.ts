// The one import of the event-loop WebSocket: a VU holds many connections at once.
// On a k6 release where the module is promoted, change this line to "k6/websockets".
export { WebSocket } from "k6/experimental/websockets";
export type { MessageEvent } from "k6/experimental/websockets";
