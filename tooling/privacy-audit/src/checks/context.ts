import type { ConsentHistory } from "../consent-history";
import type { RegimeHistory } from "../regime-history";

/** What the consent checks (2, 3, 4, 6) decide with. */
export interface ConsentContext {
  history: ConsentHistory;
  regimes: RegimeHistory;
  /** The latest simulated time: "now" for what Facebook holds today. */
  now: Date;
}
