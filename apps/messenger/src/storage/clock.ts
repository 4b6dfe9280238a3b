/** Persists the simulation clock so simulated time survives a restart. */
import { drizzleOn } from "@handshake/db/client";
import { simulationClock } from "@handshake/db/messenger-schema";
import { eq } from "drizzle-orm";
import type postgres from "postgres";
import { SimClock } from "../clock";

/** The stored clock, or a new one starting at `start` (and stored). */
export async function loadSimClock(sql: postgres.Sql, start: Date): Promise<SimClock> {
  const [row] = await drizzleOn(sql)
    .select({ simMs: simulationClock.simMs, realMs: simulationClock.realMs })
    .from(simulationClock)
    .where(eq(simulationClock.id, 1));
  const clock = row ? new SimClock(row) : new SimClock(start);
  if (!row) await saveSimClock(sql, clock.state());
  return clock;
}

export async function saveSimClock(sql: postgres.Sql, state: { simMs: number; realMs: number }): Promise<void> {
  await drizzleOn(sql)
    .insert(simulationClock)
    .values({ id: 1, simMs: state.simMs, realMs: state.realMs })
    .onConflictDoUpdate({ target: simulationClock.id, set: { simMs: state.simMs, realMs: state.realMs } });
}
