/**
 * The simulator's control endpoint, on 127.0.0.1 only:
 * - `GET /healthz`: 200 once listening (the stack waits for it);
 * - `GET /state`: speed, simulated now and running counts (JSON);
 * - `POST /speed` `{ "speed": "1d/min" }` with `x-admin-token`: changes the speed
 *   (the dashboard's pause / 1 day/min / 1 day/s buttons, through its proxy).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { parseSpeed } from "./speed";
import type { Simulator } from "./simulator";

function sameToken(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function body(req: IncomingMessage, limit = 1_024): Promise<string> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > limit) throw new RangeError("body too large");
  }
  return text;
}

/** Starts the control server; resolves with it once listening on `port` (0: any). */
export async function startControl(simulator: Simulator, options: { port: number; host?: string; adminToken: string }): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(value));
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/healthz") return reply(200, { ok: true });
    if (req.method === "GET" && url.pathname === "/state") return reply(200, simulator.stats);
    if (req.method === "POST" && url.pathname === "/speed") {
      if (!sameToken(req.headers["x-admin-token"] as string | undefined, options.adminToken)) {
        return reply(401, { error: "x-admin-token missing or wrong" });
      }
      void body(req)
        .then((text) => {
          const parsed = JSON.parse(text) as { speed?: unknown };
          if (typeof parsed.speed !== "string") throw new RangeError('expected {"speed": "1d/min"}');
          simulator.setSpeed(parseSpeed(parsed.speed));
          reply(200, { speed: simulator.currentSpeed.label });
        })
        .catch((error: unknown) => reply(400, { error: (error as Error).message }));
      return;
    }
    reply(404, { error: "GET /state, POST /speed, GET /healthz" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  return server;
}
