import { defineConfig } from "vite";
import { dashboardConfigFromEnv } from "./server/env";

export default defineConfig(dashboardConfigFromEnv());
