/**
 * Metrics the scenarios share. k6 tags every sample with its scenario, so
 * thresholds are written per scenario: `delivery_latency{scenario:steady_holders}`.
 */
import { Counter, Rate, Trend } from "k6/metrics";

/** Send time (in the content) to the recipient's socket reading the frame (MessageEvent.timestamp). */
export const deliveryLatency = new Trend("delivery_latency", true);
/** Send time (in the UUIDv7 message id) to the sender's socket reading the delivery receipt. */
export const receiptLatency = new Trend("receipt_latency", true);
/**
 * Sends accepted for a connected recipient (each should come back as a receipt) and
 * receipts that did: their ratio is the delivered share. Sender and receiver are
 * different VUs (open model), so k6 cannot pair them in one Rate; the report and the
 * merge compute `delivered` = receipts / receipts_expected and hold it to its threshold.
 */
export const receiptsExpected = new Counter("receipts_expected");
export const receipts = new Counter("receipts");
/** One sample per call or frame that should have succeeded: true when it failed. */
export const errors = new Rate("errors");
/** Calls that got no HTTP answer at all (status 0: refused, reset, timed out): errors, never outcomes. */
export const transportErrors = new Counter("transport_errors");
export const messagesSent = new Counter("messages_sent");
export const messagesReceived = new Counter("messages_received");
/** Socket created to the subscription's first frame ("started"). */
export const connectLatency = new Trend("connect_latency", true);
/** One sample per connection attempt: true when its subscription started within CONNECT_TIMEOUT. */
export const connectionsOk = new Rate("connections_ok");
export const connectionsAttempted = new Counter("connections_attempted");
/**
 * How late a VU's timers fire (ms): a VU whose event loop is busy reads frames late and
 * sends late. High values mean the generator, not the server, set the numbers.
 */
export const generatorLag = new Trend("generator_loop_lag", true);
