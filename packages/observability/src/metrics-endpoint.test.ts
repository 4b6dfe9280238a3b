import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import { metricsEndpoint } from "./metrics-endpoint";
import { tracesExporterFromEnv } from "./tracing";

const registry = new Registry();
new Counter({ name: "things_total", help: "things", registers: [registry] }).inc(2);
const servers: Server[] = [];
async function serve(token: string | null): Promise<string> {
  const endpoint = metricsEndpoint(registry, token);
  const server = createServer((req, res) => {
    if (endpoint(req, res)) return;
    res.writeHead(404).end("not found");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
let open: string;
let guarded: string;
beforeAll(async () => {
  open = await serve(null);
  guarded = await serve("metrics-token-0123456789");
});
afterAll(() => {
  for (const s of servers) s.close();
});

describe("metricsEndpoint", () => {
  it("serves the registry at /metrics and leaves other paths to the server", async () => {
    const response = await fetch(`${open}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("things_total 2");
    expect((await fetch(`${open}/trpc/metrics`)).status).toBe(404);
  });

  it("wants the token as Bearer when one is set", async () => {
    expect((await fetch(`${guarded}/metrics`)).status).toBe(401);
    expect((await fetch(`${guarded}/metrics`, { headers: { authorization: "Bearer metrics-token-012345678X" } })).status).toBe(401);
    const ok = await fetch(`${guarded}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } });
    expect(ok.status).toBe(200);
  });
});

describe("tracesExporterFromEnv", () => {
  it("is off unless asked, OTLP when an endpoint is given, and refuses an unknown exporter", () => {
    expect(tracesExporterFromEnv({})).toBe("none");
    expect(tracesExporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("otlp");
    expect(tracesExporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" })).toBe("none");
    expect(tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "console" })).toBe("console");
    expect(() => tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "jaeger" })).toThrow(/none, console or otlp/);
  });
});
