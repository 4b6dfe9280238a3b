/**
 * The compat shims refuse what k6 refuses, so the smoke fails where k6 would: send()
 * on a socket that is not open, writes to SharedArray data, metrics declared outside
 * the init context, and options k6 would reject (or only warn about).
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { checkOptions } from "./k6-options";
import { iterationScope, registry, type IterationContext } from "./registry";
import { SharedArray } from "./shims/k6/data";
import { asyncRequest } from "./shims/k6/http";
import { Counter, Trend } from "./shims/k6/metrics";
import { WebSocket } from "./shims/k6/websockets";

let server: WebSocketServer;
let url: string;

beforeAll(async () => {
  server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  server.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo ${data.toString()}`)));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const iteration: IterationContext = {
  scenario: { name: "s", executor: "per-vu-iterations", iterationInTest: 0, iterationInInstance: 0, startTime: 0, progress: 0 },
  vu: { idInTest: 1, idInInstance: 1, iterationInScenario: 0, iterationInInstance: 0, tags: {}, metrics: { tags: {}, metadata: {} } },
};

describe("k6/websockets shim", () => {
  it("send() before the socket is open throws InvalidStateError, as k6's assertStateOpen does", async () => {
    const ws = new WebSocket(url);
    expect(ws.readyState).toBe(0);
    expect(() => ws.send("too early")).toThrow("InvalidStateError");
    // Closing a CONNECTING socket would block k6's event loop: refused here.
    expect(() => ws.close()).toThrow(/CONNECTING/);
    const opened = new Promise<void>((resolve) => (ws.onopen = () => resolve()));
    await opened;
    const message = new Promise<{ data: string; timestamp: number }>((resolve) => (ws.onmessage = (e) => resolve(e!)));
    const before = Date.now();
    ws.send("hi");
    const event = await message;
    expect(event.data).toBe("echo hi");
    expect(event.timestamp).toBeGreaterThanOrEqual(before);
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    ws.close();
    expect(ws.readyState).toBe(2);
    expect(() => ws.send("while closing")).toThrow("InvalidStateError");
    await closed;
    expect(ws.readyState).toBe(3);
    expect(() => ws.send("after close")).toThrow("InvalidStateError");
  });

  it("refuses a URL that is not ws:// or wss://", () => {
    expect(() => new WebSocket("http://127.0.0.1:1/")).toThrow(/scheme ws or wss/);
  });
});

describe("k6/data SharedArray shim", () => {
  it("items are parsed copies, deep-frozen; the array cannot be written", () => {
    const users = new SharedArray("shim-test-users", () => [{ name: "a", contacts: [1, 2], nested: { deep: true } }]);
    const first = users[0]!;
    expect(Object.isFrozen(first) && Object.isFrozen(first.contacts) && Object.isFrozen(first.nested)).toBe(true);
    expect(() => {
      (first as { name: string }).name = "b";
    }).toThrow(TypeError);
    expect(() => first.contacts.push(3)).toThrow(TypeError);
    expect(() => {
      (users as unknown as unknown[])[0] = {};
    }).toThrow("SharedArray is immutable");
    // Each read is a fresh parse (as in k6): identity is not preserved.
    expect(users[0]).not.toBe(first);
    expect(users.length).toBe(1);
  });

  it("stores JSON: what JSON cannot hold does not survive, and the builder must return an array", () => {
    const items = new SharedArray("shim-test-json", () => [{ map: new Map([[1, 2]]), gone: undefined, when: new Date(0) }]);
    expect(items[0]).toEqual({ map: {}, when: "1970-01-01T00:00:00.000Z" });
    expect(() => new SharedArray("shim-test-not-array", () => ({}) as unknown as unknown[])).toThrow(/only arrays/);
  });
});

describe("k6/metrics shim", () => {
  it("metrics are declared in the init context only, with valid names", () => {
    expect(() => iterationScope.run(iteration, () => new Counter("declared_in_an_iteration"))).toThrow(/init context/);
    expect(() => new Trend("bad-name")).toThrow(/invalid metric name/);
    const counter = new Counter("shim_test_counter");
    registry.reset();
    iterationScope.run(iteration, () => counter.add(2, { what: "x" }));
    expect(registry.samples.at(-1)).toMatchObject({ metric: "shim_test_counter", value: 2, tags: { scenario: "s", what: "x" } });
    expect(() => iterationScope.run(iteration, () => counter.add(Number.NaN))).toThrow(/not a number/);
  });
});

describe("k6/http shim", () => {
  it("a transport failure answers status 0 with no body, counted in http_req_failed", async () => {
    registry.reset();
    const response = await iterationScope.run(iteration, () => asyncRequest("GET", "http://127.0.0.1:1/nothing-listens", null, { tags: { name: "probe" } }));
    expect(response).toMatchObject({ status: 0, body: null });
    expect(registry.samples.find((s) => s.metric === "http_req_failed")).toMatchObject({ value: 1, tags: { name: "probe", status: "0", scenario: "s" } });
    await expect(asyncRequest("GET", "http://127.0.0.1:1/", null, { redirects: 0 } as never)).rejects.toThrow(/unsupported param/);
  });
});

describe("options as k6 checks them", () => {
  const declared = new Map([["delivery_latency", { type: "trend" as const }], ["receipts", { type: "counter" as const }]]);
  const scenario = { executor: "constant-arrival-rate", exec: "send", rate: 10, timeUnit: "1s", duration: "10s", preAllocatedVUs: 2, maxVUs: 4 };

  it("accepts what the scripts export", () => {
    expect(() => checkOptions({ scenarios: { s: scenario }, thresholds: { "delivery_latency{scenario:s}": ["p(99)<500"], receipts: [{ threshold: "count>0", abortOnFail: true }] } }, declared)).not.toThrow();
  });

  it("rejects an unknown scenario field (k6: strict JSON decoding) and an unknown option (k6 only warns)", () => {
    expect(() => checkOptions({ scenarios: { s: { ...scenario, maxVus: 4 } } }, declared)).toThrow(/scenario s: json: unknown field "maxVus"/);
    expect(() => checkOptions({ scenarios: { s: scenario }, setupTimeOut: "60s" }, declared)).toThrow(/unknown option "setupTimeOut"/);
    expect(() => checkOptions({ scenarios: { s: { ...scenario, executor: "constant-arrival" } } }, declared)).toThrow(/unknown executor/);
    expect(() => checkOptions({ scenarios: { s: { ...scenario, rate: 1.5 } } }, declared)).toThrow(/rate must be a non-negative integer/);
    expect(() => checkOptions({ scenarios: { s: { executor: "constant-arrival-rate", exec: "send", rate: 1, duration: "1s" } } }, declared)).toThrow(/preAllocatedVUs is required/);
    expect(() => checkOptions({ systemTags: ["scenario", "URL"] }, declared)).toThrow(/unknown tag "URL"/);
  });

  it("rejects thresholds on metrics that do not exist or with aggregations their type lacks", () => {
    expect(() => checkOptions({ thresholds: { delivered: ["rate>0.99"] } }, declared)).toThrow(/no metric name "delivered" found/);
    expect(() => checkOptions({ thresholds: { delivery_latency: ["count>0"] } }, declared)).toThrow(/unsupported aggregation method count on metric of type trend/);
    expect(() => checkOptions({ thresholds: { receipts: [{ threshold: "count>0", abortOnFail: true, abortOnFial: true }] } }, declared)).toThrow(/unknown field "abortOnFial"/);
    expect(() => checkOptions({ thresholds: { dropped_iterations: ["count==0"], ws_connecting: ["p(95)<1000"] } }, declared)).not.toThrow();
  });
});
