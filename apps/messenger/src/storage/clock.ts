/** Persists the simulation clock so simulated time survives a restart. */
import type postgres from "postgres";
import { SimClock } from "../clock";

/** The stored clock, or a new one starting at `start` (and stored). */
export async function loadSimClock(sql: postgres.Sql, start: Date): Promise<SimClock> {
  const [row] = await sql<{ sim_ms: string; real_ms: string }[]>`select sim_ms, real_ms from simulation_clock where id = 1`;
  const clock = row ? new SimClock({ simMs: Number(row.sim_ms), realMs: Number(row.real_ms) }) : new SimClock(start);
  if (!row) await saveSimClock(sql, clock.state());
  return clock;
}

export async function saveSimClock(sql: postgres.Sql, state: { simMs: number; realMs: number }): Promise<void> {
  await sql`
    insert into simulation_clock (id, sim_ms, real_ms) values (1, ${state.simMs}, ${state.realMs})
    on conflict (id) do update set sim_ms = excluded.sim_ms, real_ms = excluded.real_ms`;
}
