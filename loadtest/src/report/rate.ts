/**
 * What a scenario's achieved rate is measured in, against what plan, over which window:
 * one place for the runner, the report and the merge, using the scripts' own timeline
 * (model/timeline.ts), so a scenario that sends for 2D/3 + OUTAGE seconds is not
 * divided by D.
 */
import { BUSINESS_SHARE_OF_MESSAGES } from "../model/figures";
import { sendWindowSeconds } from "../model/timeline";
import type { Load, ScenarioName } from "../model/workload";

export interface RateSpec {
  /** Counter whose count over `windowSeconds` is the achieved rate. */
  metric: string;
  unit: string;
  planned: number;
  windowSeconds: number;
}

export interface RateInputs {
  load: Load;
  durationSeconds: number;
  outageSeconds: number;
  listsPerMinute: number;
}

/** null: the scenario has no planned rate (rollout: users act on the days their fixture says). */
export function rateSpec(scenario: ScenarioName, inputs: RateInputs): RateSpec | null {
  const { load, durationSeconds, outageSeconds } = inputs;
  switch (scenario) {
    case "steady":
    case "reconnect-storm":
    case "breakpoint":
      return { metric: "messages_sent", unit: "msg/s", planned: load.messagesPerSecond, windowSeconds: sendWindowSeconds(scenario, durationSeconds, outageSeconds) };
    case "business-broadcast":
      // Every business send the server answered (accepted or rightly refused) is work it did.
      return { metric: "business_sends", unit: "business msg/s", planned: load.messagesPerSecond * BUSINESS_SHARE_OF_MESSAGES.value, windowSeconds: durationSeconds };
    case "custom-audience":
      return { metric: "audience_lists", unit: "lists/s", planned: inputs.listsPerMinute / 60, windowSeconds: durationSeconds };
    case "rollout":
      return null;
  }
}
