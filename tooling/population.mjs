#!/usr/bin/env node
// `pnpm population <command>`: the population CLI, except `seed`, which lives in
// @handshake/seed because it writes to the databases (the population package is
// pure and depends on nothing of ours).
import { spawnSync } from "node:child_process";

const [command, ...rest] = process.argv.slice(2);
const target = command === "seed" ? ["@handshake/seed", "seed"] : ["@handshake/population", "cli"];
const args = command === "seed" ? rest : process.argv.slice(2);
const run = spawnSync("pnpm", ["--silent", "--filter", target[0], "run", target[1], ...args], {
  stdio: "inherit",
  env: { ...process.env, INIT_CWD: process.env.INIT_CWD ?? process.cwd() },
});
process.exit(run.status ?? 1);
