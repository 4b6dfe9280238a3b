/** `pnpm dev` starts this through the stack runner: the dashboard's Vite dev server. */
import { createServer } from "vite";
import { dashboardConfigFromEnv, webEnv } from "./env";

const server = await createServer(dashboardConfigFromEnv());
await server.listen();
console.log(`dashboard on http://${webEnv.HOST}:${webEnv.PORT}/ (messenger :${webEnv.MESSENGER_PORT}, facebook :${webEnv.FACEBOOK_PORT})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
