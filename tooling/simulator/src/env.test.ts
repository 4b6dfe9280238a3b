/** Each entry point validates only what it needs. */
import { describe, expect, it } from "vitest";
import { seedWorldEnv, simulatorEnv } from "./env";

describe("simulator env", () => {
  it("the seeder needs no ADMIN_TOKEN, the simulator does", () => {
    const env = { MESSENGER_DATABASE_URL: "postgres://127.0.0.1:5432/messenger" };
    expect(seedWorldEnv(env)).toEqual({ MESSENGER_DATABASE_URL: env.MESSENGER_DATABASE_URL, SHARD_COUNT: 10_000 });
    expect(seedWorldEnv({ ...env, SHARD_MAP: "/x/shard-map.json", SHARD_COUNT: "64" })).toMatchObject({ SHARD_MAP: "/x/shard-map.json", SHARD_COUNT: 64 });
    expect(() => simulatorEnv(env)).toThrow(/ADMIN_TOKEN/);
    expect(simulatorEnv({ ADMIN_TOKEN: "t" }).SIM_SPEED).toBe("1d/min");
  });

  it("a malformed database URL is refused by name", () => {
    expect(() => seedWorldEnv({ MESSENGER_DATABASE_URL: "not a url" })).toThrow(/MESSENGER_DATABASE_URL/);
  });
});
