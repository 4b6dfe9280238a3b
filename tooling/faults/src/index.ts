/** The fault suite as a library: start it, run faults, read their figures. */
export { FaultSuite, SUITE_REGIME, type FaultResult } from "./suite/suite";
export { FAULTS, FLOOD_MAX_SUBSCRIPTIONS, SLOW_CONSUMER_RSS_BUDGET_BYTES, type Fault } from "./suite/faults";
export { FULL, SHORT, type SuiteSize } from "./suite/sizes";
export { formatTable } from "./report/table";
export { PostgresFaultProxy, type ProxyMode } from "@handshake/db/fault-proxy";
export { stopAllFaultStacks } from "./stack/fault-stack";
