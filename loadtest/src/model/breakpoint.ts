/** The breakpoint scenario ramps its arrival rate from a quarter of the plan to this many times it (plain data: the k6 script imports it). */
export const BREAKPOINT_MAX_FACTOR = 4;
