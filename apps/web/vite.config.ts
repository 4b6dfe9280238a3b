import { defineConfig } from "vite";
import { dashboardConfig } from "./server/config";
import { webEnv } from "./server/env";

export default defineConfig(
  dashboardConfig({
    port: webEnv.PORT,
    host: webEnv.HOST,
    messengerPort: webEnv.MESSENGER_PORT,
    facebookPort: webEnv.FACEBOOK_PORT,
    ...(webEnv.HANDSHAKE_REPORTS_DIR ? { reportsDir: webEnv.HANDSHAKE_REPORTS_DIR } : {}),
  }),
);
