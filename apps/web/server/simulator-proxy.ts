/**
 * `/api/simulator/*` → the simulator's control endpoint (tooling/simulator):
 * `GET state`, `POST speed` with the admin token. Forwarded here rather than by
 * Vite's proxy because no simulator (`pnpm dev --still`) is a state, not an
 * error: the answer is then `{"running":false}`, with no proxy error logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Plugin } from "vite";

async function readBody(req: IncomingMessage, limit = 1_024): Promise<string> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > limit) throw new RangeError("body too large");
  }
  return text;
}

export function simulatorProxyPlugin(options: { port: number }): Plugin {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = `http://127.0.0.1:${options.port}${(req.url ?? "/").replace(/^\/api\/simulator/, "")}`;
    const token = req.headers["x-admin-token"];
    let status = 200;
    let body = '{"running":false}';
    try {
      const init: RequestInit = { method: req.method ?? "GET", headers: { "content-type": "application/json", ...(typeof token === "string" ? { "x-admin-token": token } : {}) } };
      if (req.method === "POST") init.body = await readBody(req);
      const response = await fetch(target, init);
      status = response.status;
      body = await response.text();
    } catch (error) {
      if (error instanceof RangeError) [status, body] = [413, JSON.stringify({ error: error.message })];
      // otherwise nothing listens: no simulator (a state to read, an error to write to)
      else if (req.method === "POST") [status, body] = [503, JSON.stringify({ error: "no simulator running (pnpm dev --still)" })];
    }
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.setHeader("cache-control", "no-store");
    res.end(body);
  };
  return {
    name: "handshake-simulator-proxy",
    configureServer(server) {
      server.middlewares.use("/api/simulator", (req, res) => void handle(req, res));
    },
  };
}
