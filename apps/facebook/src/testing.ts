/**
 * A real Facebook-side service for tests, on a fresh database of the run's
 * PostgreSQL, on a free port. Test-only.
 */
import { createTestDatabase } from "@handshake/db/testing";
import type { Clock } from "./clock";
import { createLogger } from "./log";
import { createFacebookServer, type FacebookServer, type FacebookServerOptions } from "./server";

export const TEST_FACEBOOK_ADMIN_TOKEN = "test-facebook-admin-0123456789";

export interface TestFacebook {
  url: string;
  port: number;
  server: FacebookServer;
  databaseUrl: string;
  logLines: string[];
  close(): Promise<void>;
}

export async function startTestFacebook(
  options: Partial<Omit<FacebookServerOptions, "databaseUrl">> & { clock?: Clock; databaseUrl?: string; port?: number } = {},
): Promise<TestFacebook> {
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createTestDatabase("facebook");
  const logLines: string[] = [];
  const server = await createFacebookServer({
    adminToken: TEST_FACEBOOK_ADMIN_TOKEN,
    poolSize: 4,
    ...options,
    databaseUrl: database.url,
    logger: createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } }),
  });
  const { url, port } = await server.listen(options.port ?? 0);
  return {
    url,
    port,
    server,
    databaseUrl: database.url,
    logLines,
    close: async () => {
      await server.close();
      await database.drop();
    },
  };
}
