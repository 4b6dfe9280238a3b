/** Rollout: acceptances, unticked boxes, opt-outs and lock-outs over the 30 days, and what each regime lets serve ads. */
import { ANNOUNCED_2016, REGULATORY_EVENTS_2016 } from "@handshake/consent";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { REFRESH_MS, useMessenger } from "../api";
import { LineChart, type ChartEvent } from "../charts/LineChart";
import { count, percent } from "../format";
import { ErrorNote } from "../widgets";
import { ClockPanel } from "./Overview";

const DAYS = 31;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The axis runs past the 30 days to the last regulator's date (the EU pause, mid-November 2016) and a few days more. */
const AXIS_DAYS = Math.max(DAYS, Math.ceil((Math.max(...REGULATORY_EVENTS_2016.map((e) => e.at.getTime())) - ANNOUNCED_2016.getTime()) / DAY_MS) + 4);

/** The 2016 timeline's dates as chart events (sources in @handshake/consent policy.ts). */
function rolloutEvents(announced: number): ChartEvent[] {
  const label = (at: number) => new Date(at).toISOString().slice(5, 10);
  return [
    { x: label(announced), label: "New terms" },
    ...REGULATORY_EVENTS_2016.map((e) => ({
      x: label(e.at.getTime()),
      label: e.scope === "DE" ? "Hamburg order (DE)" : e.scope === "GB" ? "ICO pause (UK)" : "EU pause",
    })),
  ];
}
const COLOURS = ["#1f6feb", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e"];

export function RolloutPage() {
  const [country, setCountry] = useState("");
  const [purpose, setPurpose] = useState<"ads" | "product">("ads");
  const messenger = useMessenger();
  const r = useQuery({
    ...messenger.dashboard.rollout.queryOptions(country ? { country } : {}),
    // Consent choices arrive from devices, not from this page: fetch again while shown.
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const data = r.data;
  const announced = data ? new Date(data.announcedAt).getTime() : Date.parse("2016-08-25T00:00:00Z");
  const xLabels = Array.from({ length: AXIS_DAYS }, (_, i) => new Date(announced + i * DAY_MS).toISOString().slice(5, 10));
  const events = rolloutEvents(announced);
  const column = (pick: (d: NonNullable<typeof data>["days"][number]) => number) =>
    xLabels.map((_, i) => (data?.days[i] ? pick(data.days[i]) : null));
  const last = data?.days[data.days.length - 1];

  return (
    <>
      <h1>Rollout</h1>
      <p className="lede">
        The 30 days after the new terms of 2016-08-25, day by day up to the simulated now: who accepted, who unticked the
        pre-ticked box, who opted out later in Settings, and who was locked out at the deadline. Below: the share of accounts
        whose data may serve {purpose === "ads" ? "ads" : "product experiences"} under each regime, decided by the consent rules
        over each account&rsquo;s history. Dashed rules mark the regulators&rsquo; dates under <code>historical-2016</code>:
        Hamburg&rsquo;s order stops German sharing (2016-09-27), the ICO (2016-11-07) and the EU (mid-November) pause ads and
        product use.
      </p>
      <div className="grid">
        <section aria-labelledby="rollout-controls" className="panel">
          <h2 id="rollout-controls">Scope</h2>
          <div className="field">
            <label htmlFor="rollout-country">Country</label>
            <select id="rollout-country" value={country} onChange={(e) => setCountry(e.target.value)}>
              <option value="">All countries</option>
              {data?.countries.map((c) => (
                <option key={c.country} value={c.country}>
                  {c.country} ({count(c.accounts)})
                </option>
              ))}
            </select>
          </div>
          <fieldset>
            <legend>Purpose</legend>
            <label>
              <input type="radio" name="purpose" value="ads" checked={purpose === "ads"} onChange={() => setPurpose("ads")} /> Ads
            </label>
            <label>
              <input type="radio" name="purpose" value="product" checked={purpose === "product"} onChange={() => setPurpose("product")} /> Product
              (friend suggestions)
            </label>
          </fieldset>
          <p data-testid="rollout-days">
            {data ? `${data.days.length} of ${DAYS} days so far` : "…"}
            {last ? ` — ${count(last.accepted)} of ${count(last.existingUsers)} existing users accepted` : ""}
          </p>
        </section>
        <ClockPanel now={data?.now} />
      </div>
      <ErrorNote error={r.error} what="messenger" />
      <section aria-labelledby="choices-title" className="panel">
        <h2 id="choices-title">Choices over the 30 days</h2>
        <LineChart
          testId="rollout-chart"
          title="Accounts by choice, per day"
          description={`Cumulative accounts that accepted, unticked the box, opted out in Settings, and were locked out, for ${data?.days.length ?? 0} days${country ? ` in ${country}` : ""}.`}
          xLabels={xLabels}
          series={[
            { name: "Accepted the 2016 terms", colour: COLOURS[0]!, values: column((d) => d.accepted) },
            { name: "Unticked the box", colour: COLOURS[1]!, values: column((d) => d.boxUnticked) },
            { name: "Opted out in Settings", colour: COLOURS[2]!, values: column((d) => d.settingsOptOuts) },
            { name: "Locked out (no acceptance by the deadline)", colour: COLOURS[4]!, values: column((d) => d.lockedOut) },
          ]}
          formatY={(v) => count(Math.round(v))}
          events={events}
        />
      </section>
      <section aria-labelledby="regimes-title" className="panel">
        <h2 id="regimes-title">Share of accounts whose data may serve {purpose}, per regime</h2>
        <LineChart
          testId="regime-chart"
          title={`Accounts whose data may serve ${purpose}, per regime`}
          description="Percentage of registered accounts, per day, under each consent regime."
          xLabels={xLabels}
          yMax={100}
          series={(data?.regimes ?? []).map((regime, k) => ({
            name: regime,
            colour: COLOURS[k % COLOURS.length]!,
            values: column((d) => (d.registered === 0 ? 0 : (100 * d.mayServe[regime][purpose]) / d.registered)),
          }))}
          formatY={(v) => `${Math.round(v)} %`}
          events={events}
        />
        {data && data.days.length > 0 ? (
          <details>
            <summary>Figures as a table</summary>
            <table className="compact">
              <caption>Per day{country ? `, ${country}` : ""}</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col" className="num">Registered</th>
                  <th scope="col" className="num">Accepted</th>
                  <th scope="col" className="num">Unticked</th>
                  <th scope="col" className="num">Settings opt-outs</th>
                  <th scope="col" className="num">Locked out</th>
                  {data.regimes.map((regime) => (
                    <th scope="col" className="num" key={regime}>
                      {purpose}: {regime}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.days.map((d) => (
                  <tr key={d.day}>
                    <th scope="row">{d.day}</th>
                    <td className="num">{count(d.registered)}</td>
                    <td className="num">{count(d.accepted)}</td>
                    <td className="num">{count(d.boxUnticked)}</td>
                    <td className="num">{count(d.settingsOptOuts)}</td>
                    <td className="num">{count(d.lockedOut)}</td>
                    {data.regimes.map((regime) => (
                      <td className="num" key={regime}>
                        {percent(d.mayServe[regime][purpose], d.registered)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ) : (
          <p>No day of the rollout has begun yet: advance the simulation clock past 2016-08-25.</p>
        )}
      </section>
    </>
  );
}
