/**
 * How long a consent change may take to reach Facebook, in simulated milliseconds:
 * the one bound the share pipeline promises and the privacy audit holds it to.
 *
 * Facebook cannot know of an opt-out before its snapshot arrives: the messenger
 * records the choice at simulated time T, the shipper sends the snapshot, and a use
 * at Facebook in between is judged by consent Facebook has not received. The promise
 * is that this window is short and bounded: a clock move waits (at most this long, in
 * real time) until every consent change already recorded has shipped, so simulated
 * time flows past an opt-out only at real speed until Facebook has it — the clock
 * never jumps past an unshipped consent change while Facebook answers. The audit
 * therefore judges a use at `t` against consent as Facebook could hold it: the
 * account's consent at `t` or, for a change recorded in the last
 * `CONSENT_PROPAGATION_MS` before `t`, its consent before that change. Anything later
 * is a breach: a withdrawal slower than this, or a clock move past one.
 *
 * 10 s: the shipper's request timeout (one batch in flight either lands or fails in
 * that time); measured shipping latency of a consent snapshot on a loaded 2-core
 * machine is tens to hundreds of milliseconds.
 */
export const CONSENT_PROPAGATION_MS = 10_000;
