/** `pnpm dev` starts this through the stack runner: the dashboard's Vite dev server. */
import { createServer } from "vite";
import { dashboardConfig } from "./config";
import { webEnv } from "./env";

const server = await createServer(
  dashboardConfig({
    port: webEnv.PORT,
    host: webEnv.HOST,
    messengerPort: webEnv.MESSENGER_PORT,
    facebookPort: webEnv.FACEBOOK_PORT,
    ...(webEnv.HANDSHAKE_REPORTS_DIR ? { reportsDir: webEnv.HANDSHAKE_REPORTS_DIR } : {}),
  }),
);
await server.listen();
console.log(`dashboard on http://${webEnv.HOST}:${webEnv.PORT}/ (messenger :${webEnv.MESSENGER_PORT}, facebook :${webEnv.FACEBOOK_PORT})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
