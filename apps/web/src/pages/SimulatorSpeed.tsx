/**
 * The simulator's speed: pause, 1 day per minute, 1 day per second. The
 * simulator (tooling/simulator) is its own process with a tiny control endpoint,
 * reached through the dev server's `/api/simulator` proxy; changing the speed
 * needs the admin token. Under `pnpm dev --still` there is no simulator and the
 * panel says so.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { adminToken, REFRESH_MS } from "../api";
import { count } from "../format";

interface SimulatorState {
  /** false when the dev server found no simulator behind its proxy. */
  running?: false;
  world: "starting" | "seeded" | "absent";
  speed: string;
  devices: { online: number; offline: number };
  messages: { sent: number; received: number };
  consent: { accepted: number; unticked: number; optedOut: number; pending: number };
}

const SPEEDS = [
  { speed: "pause", label: "Pause" },
  { speed: "1d/min", label: "1 day/min" },
  { speed: "1d/s", label: "1 day/s" },
] as const;

async function readState(): Promise<SimulatorState> {
  const response = await fetch("/api/simulator/state");
  if (!response.ok) throw new Error(`simulator answered ${response.status}`);
  return (await response.json()) as SimulatorState;
}

async function setSpeed(speed: string): Promise<{ speed: string }> {
  const response = await fetch("/api/simulator/speed", {
    method: "POST",
    headers: { "content-type": "application/json", "x-admin-token": adminToken() ?? "" },
    body: JSON.stringify({ speed }),
  });
  const body = (await response.json()) as { speed?: string; error?: string };
  if (!response.ok) throw new Error(body.error ?? `simulator answered ${response.status}`);
  return { speed: body.speed ?? speed };
}

export function SimulatorSpeed() {
  const queryClient = useQueryClient();
  const state = useQuery({ queryKey: ["simulator", "state"], queryFn: readState, refetchInterval: REFRESH_MS, retry: false });
  const change = useMutation({
    mutationFn: setSpeed,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["simulator"] }),
  });
  const s = state.data;
  if (state.isError || s?.running === false) {
    return <p className="hint" data-testid="simulator-state">No simulator running (started with <code>pnpm dev --still</code>?).</p>;
  }
  return (
    <div aria-label="Simulator speed">
      <div className="buttons">
        {SPEEDS.map(({ speed, label }) => (
          <button
            type="button"
            key={speed}
            aria-pressed={s?.speed === speed}
            disabled={change.isPending || !s}
            onClick={() => change.mutate(speed)}
            data-testid={`speed-${speed}`}
          >
            {label}
          </button>
        ))}
      </div>
      <p className="hint" data-testid="simulator-state">
        {s
          ? s.world === "absent"
            ? `Simulator at ${s.speed}: no seeded world (pnpm dev --empty), only the clock moves.`
            : `Simulator at ${s.speed}: ${s.devices.online} devices online, ${count(s.messages.sent)} messages sent, ${count(s.consent.accepted + s.consent.unticked)} terms accepted.`
          : "…"}
        {change.isError ? ` Could not change the speed: ${(change.error as Error).message}` : ""}
      </p>
    </div>
  );
}
