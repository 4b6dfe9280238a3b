/**
 * Metrics the scenarios share. k6 tags every sample with its scenario, so
 * thresholds are written per scenario: `delivery_latency{scenario:steady}`.
 */
import { Counter, Rate, Trend } from "k6/metrics";

/** Send time (in the content) to receipt at the recipient's socket. */
export const deliveryLatency = new Trend("delivery_latency", true);
/** Send to the sender seeing the recipient's delivery receipt (recipient acked). */
export const receiptLatency = new Trend("receipt_latency", true);
/** One sample per message to a connected recipient: true once its receipt came back. */
export const delivered = new Rate("delivered");
/** One sample per call or frame that should have succeeded: true when it failed. */
export const errors = new Rate("errors");
export const messagesSent = new Counter("messages_sent");
export const messagesReceived = new Counter("messages_received");
/** Opening a connection to the first frame of its subscription ("started"). */
export const connectLatency = new Trend("connect_latency", true);
