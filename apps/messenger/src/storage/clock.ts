/** Persists the simulation clock so simulated time survives a restart. */
import { drizzleOn } from "@handshake/db/client";
import { simulationClock } from "@handshake/db/messenger-schema";
import { eq, sql as q } from "drizzle-orm";
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

/**
 * Stores `state` unless the stored clock is already later (several nodes move it:
 * two moves racing must not store the earlier one last). Both states flow at real
 * speed, so the later is the one with the larger `simMs - realMs`.
 */
export async function saveSimClock(sql: postgres.Sql, state: { simMs: number; realMs: number }): Promise<void> {
  await drizzleOn(sql)
    .insert(simulationClock)
    .values({ id: 1, simMs: state.simMs, realMs: state.realMs })
    .onConflictDoUpdate({
      target: simulationClock.id,
      set: { simMs: state.simMs, realMs: state.realMs },
      setWhere: q`${state.simMs - state.realMs} > ${simulationClock.simMs} - ${simulationClock.realMs}`,
    });
}

/** The stored clock's state, or null before the first start. */
export async function readSimClockState(sql: postgres.Sql): Promise<{ simMs: number; realMs: number } | null> {
  const [row] = await drizzleOn(sql)
    .select({ simMs: simulationClock.simMs, realMs: simulationClock.realMs })
    .from(simulationClock)
    .where(eq(simulationClock.id, 1));
  return row ?? null;
}
