/** Overview: the stack, the seeded sample, live rates, the share pipeline and the simulation clock. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState, type FormEvent } from "react";
import { describeError, REFRESH_MS, useFacebook, useMessenger } from "../api";
import { count, duration, perSecond, simTime } from "../format";
import { ErrorNote, Stat } from "../widgets";
import { SimulatorSpeed } from "./SimulatorSpeed";

export function OverviewPage() {
  const messenger = useMessenger();
  const facebook = useFacebook();
  // The messenger streams its figures (dashboard.live over the WebSocket); the Facebook side is fetched.
  const m = useSubscription(messenger.dashboard.live.subscriptionOptions({ topCountries: 8 }));
  const f = useQuery({ ...facebook.dashboard.overview.queryOptions(), refetchInterval: REFRESH_MS });
  const o = m.data?.data;
  const fb = f.data;
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={m.error} what="messenger" />
      <ErrorNote error={f.error} what="Facebook side" />
      <div className="grid">
        <section aria-labelledby="stack-title" className="panel">
          <h2 id="stack-title">Stack</h2>
          <dl className="stats">
            <Stat label="Messenger" value={m.error ? "unreachable" : o ? "up" : "…"} testId="stack-messenger" />
            <Stat label="Facebook side" value={f.error ? "unreachable" : fb ? "up" : "…"} testId="stack-facebook" />
            <Stat label="Consent regime" value={o ? (typeof o.regime === "string" ? o.regime : "custom") : "…"} testId="overview-regime" />
          </dl>
        </section>
        <ClockPanel now={o?.now} />
        <section aria-labelledby="sample-title" className="panel">
          <h2 id="sample-title">Seeded sample</h2>
          <dl className="stats">
            <Stat label="Accounts" value={o ? count(o.accounts.total) : "…"} testId="overview-accounts" />
            <Stat label="Business accounts" value={o ? count(o.accounts.business) : "…"} />
            <Stat label="Shards with accounts" value={o ? `${count(o.shards.withAccounts)} of ${count(o.shards.configured)}` : "…"} testId="overview-shards" />
            <Stat label="Devices" value={o ? count(o.devices.registered) : "…"} />
          </dl>
          {o && o.countries.length > 0 ? (
            <table className="compact">
              <caption>Accounts by country (top {o.countries.length})</caption>
              <thead>
                <tr>
                  <th scope="col">Country</th>
                  <th scope="col" className="num">Accounts</th>
                </tr>
              </thead>
              <tbody data-testid="overview-countries">
                {o.countries.map((c) => (
                  <tr key={c.country}>
                    <td>{c.country}</td>
                    <td className="num">{count(c.accounts)}</td>
                  </tr>
                ))}
                {o.otherCountries.countries > 0 ? (
                  <tr>
                    <td>{o.otherCountries.countries} others</td>
                    <td className="num">{count(o.otherCountries.accounts)}</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          ) : null}
        </section>
        <section aria-labelledby="live-title" className="panel">
          <h2 id="live-title">Messages, live</h2>
          <dl className="stats">
            <Stat
              label="Envelopes stored"
              value={o?.rates ? perSecond(o.rates.storedPerSecond) : "measuring…"}
              hint="messages and delivery receipts, last minute"
              testId="overview-stored-rate"
            />
            <Stat label="Envelopes delivered" value={o?.rates ? perSecond(o.rates.deliveredPerSecond) : "measuring…"} hint="acknowledged, last minute" />
            <Stat label="Queue depth" value={o ? count(o.queue.depth) : "…"} hint="ciphertext waiting for a device" testId="overview-queue" />
            <Stat label="Connected devices" value={o ? count(o.devices.connected) : "…"} />
          </dl>
        </section>
        <section aria-labelledby="share-title" className="panel">
          <h2 id="share-title">Share pipeline</h2>
          <dl className="stats">
            <Stat label="Shipper" value={o ? o.share.state : "…"} testId="overview-shipper" />
            <Stat label="Events waiting" value={o ? count(o.share.pending) : "…"} />
            <Stat label="Lag" value={o ? duration(o.share.lagMs) : "…"} testId="overview-lag" />
            <Stat label="Shipped" value={o ? count(o.share.shipped) : "…"} />
          </dl>
          {o?.share.lastError ? <p className="hint">Last error: {o.share.lastError}</p> : null}
          <dl className="stats">
            <Stat label="Accepted 2016 terms" value={o ? count(o.consent.accepted2016) : "…"} testId="overview-accepted" />
            <Stat label="Unticked the box" value={o ? count(o.consent.boxUnticked) : "…"} />
            <Stat label="Opted out in Settings" value={o ? count(o.consent.settingsOptOuts) : "…"} />
          </dl>
        </section>
        <section aria-labelledby="fb-title" className="panel">
          <h2 id="fb-title">What Facebook holds</h2>
          <dl className="stats">
            <Stat label="Shared data rows" value={fb ? count(fb.sharedData.rows) : "…"} testId="facebook-shared-rows" />
            <Stat label="Accounts with data" value={fb ? count(fb.sharedData.accounts) : "…"} />
            <Stat label="Linked profiles" value={fb ? count(fb.links) : "…"} />
            <Stat label="Audited uses" value={fb ? count(fb.audit.rows) : "…"} />
            <Stat label="Audiences" value={fb ? count(fb.audiences) : "…"} />
            <Stat label="Ad impressions" value={fb ? count(fb.impressions) : "…"} />
          </dl>
          {fb && fb.audit.byUse.length > 0 ? (
            <table className="compact">
              <caption>Audited uses by feature and purpose</caption>
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">Purpose</th>
                  <th scope="col" className="num">Uses</th>
                </tr>
              </thead>
              <tbody>
                {fb.audit.byUse.map((u) => (
                  <tr key={`${u.feature}/${u.purpose}`}>
                    <td>{u.feature}</td>
                    <td>{u.purpose}</td>
                    <td className="num">{count(u.rows)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
      </div>
    </>
  );
}

/**
 * The simulation clock and buttons to move it forward (it never goes back). A move
 * invalidates every cached view of both services: each depends on the simulated now.
 */
export function ClockPanel({ now }: { now: string | undefined }) {
  const messenger = useMessenger();
  const facebook = useFacebook();
  const queryClient = useQueryClient();
  const [days, setDays] = useState("1");
  const [message, setMessage] = useState<string | null>(null);
  const move = useMutation(
    messenger.admin.advanceClock.mutationOptions({
      onSuccess: async (moved) => {
        // A regulator's date passed (historical-2016): Facebook was sent fresh snapshots to delete or narrow.
        const regulatory = moved.regulatoryEvents > 0 ? ` A regulator's date passed: ${moved.regulatoryEvents} accounts re-sent to Facebook.` : "";
        setMessage(`Moved to ${simTime(moved.now)}.${regulatory}`);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: messenger.pathKey() }),
          queryClient.invalidateQueries({ queryKey: facebook.pathKey() }),
        ]);
      },
      onError: (error) => setMessage(`Could not move the clock: ${describeError(error)}`),
    }),
  );
  const busy = move.isPending;
  const advance = (input: { days?: number; ms?: number }) => move.mutate(input);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const n = Number(days);
    if (Number.isFinite(n) && n > 0) advance({ days: n });
  };
  return (
    <section aria-labelledby="clock-title" className="panel">
      <h2 id="clock-title">Simulation clock</h2>
      <p className="clock" data-testid="sim-clock">
        {now ? simTime(now) : "…"}
      </p>
      <SimulatorSpeed />
      <div className="buttons">
        <button type="button" disabled={busy} onClick={() => advance({ ms: 3_600_000 })}>
          +1 hour
        </button>
        <button type="button" disabled={busy} onClick={() => advance({ days: 1 })} data-testid="advance-day">
          +1 day
        </button>
        <button type="button" disabled={busy} onClick={() => advance({ days: 7 })}>
          +7 days
        </button>
      </div>
      <form onSubmit={submit} className="inline-form">
        <label htmlFor="advance-days">Advance by days</label>
        <input id="advance-days" type="number" min="0.01" step="any" value={days} onChange={(e) => setDays(e.target.value)} />
        <button type="submit" disabled={busy}>
          Advance
        </button>
      </form>
      <p role="status" className="hint">
        {message ?? "Time only moves forward; consent history stays in order."}
      </p>
    </section>
  );
}
