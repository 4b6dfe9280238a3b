/**
 * Gains: what Facebook got out of WhatsApp's data, per consent regime — extra linked
 * profiles (no number or a stale one, found through the verified number), the audience
 * match-rate lift, extra friend suggestions, device-targetable profiles — and what it
 * lost when users opted out or regulators stepped in.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { REFRESH_MS, useFacebook, useMessenger } from "../api";
import { count, simTime } from "../format";
import { ErrorNote } from "../widgets";

const ratio = (x: number | null) => (x === null ? "—" : `×${x.toFixed(2)}`);
const rate = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)}%`);

export function GainsPage() {
  const messenger = useMessenger();
  const facebook = useFacebook();
  const status = useQuery({ ...messenger.share.status.queryOptions(), refetchInterval: REFRESH_MS });
  const regime = status.data?.regime;
  const gains = useQuery({
    // A named regime passes as is; a spec arrives JSON-serialised (dates as strings), which the input schema coerces back.
    ...facebook.dashboard.gains.queryOptions(regime === undefined ? {} : { regime: regime as Exclude<typeof regime, object> }),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const g = gains.data;
  return (
    <>
      <h1>What Facebook gains</h1>
      <p className="lede">
        WhatsApp holds the <em>current, verified</em> number that Facebook lacks or holds stale. Where a user&rsquo;s data may
        serve product experiences, that number links their profile (by the name other people saved it under in the address
        books they uploaded); where it may serve ads, it completes Custom Audience matches and lets ads target the phone model.
        Grouped by the consent regime each country is under{regime === undefined ? "" : ` (${typeof regime === "string" ? regime : "custom"})`}.
      </p>
      <ErrorNote error={gains.error ?? status.error} what="Facebook side" />
      {g ? (
        <>
          <section aria-labelledby="match-title" className="panel">
            <h2 id="match-title">Custom Audience match rate, with and without WhatsApp</h2>
            <p data-testid="match-rate">
              {count(g.audiences.uploadedRows)} rows uploaded: {rate(g.audiences.matchRate)} matched through Facebook&rsquo;s own
              numbers, {rate(g.audiences.matchRateWithWhatsapp)} with WhatsApp&rsquo;s ({count(g.audiences.whatsappMatches)} extra
              members). As of {simTime(g.at)}.
            </p>
          </section>
          <section aria-labelledby="gains-title" className="panel">
            <h2 id="gains-title">Per regime: gained, and lost to opt-outs</h2>
            <table data-testid="gains-table">
              <thead>
                <tr>
                  <th scope="col">Regime</th>
                  <th scope="col" className="num">Countries</th>
                  <th scope="col" className="num">Linked by own number</th>
                  <th scope="col" className="num">Extra linked profiles</th>
                  <th scope="col" className="num">Audience lift</th>
                  <th scope="col" className="num">Extra suggestions</th>
                  <th scope="col" className="num">Device-targetable</th>
                  <th scope="col" className="num">Links lost</th>
                  <th scope="col" className="num">Memberships lost</th>
                </tr>
              </thead>
              <tbody>
                {g.byRegime.map((r) => (
                  <tr key={r.regime}>
                    <th scope="row">{r.regime}</th>
                    <td className="num" title={r.countries.join(", ")}>{r.countries.length}</td>
                    <td className="num">{count(r.linkedByPhone)}</td>
                    <td className="num">{count(r.linkedByName)}</td>
                    <td className="num">{ratio(r.audience.lift)}</td>
                    <td className="num">{count(r.extraSuggestions)}</td>
                    <td className="num">{count(r.deviceTargetable)}</td>
                    <td className="num">{count(r.lost.links)}</td>
                    <td className="num">{count(r.lost.audienceMemberships)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {g.byRegime.length === 0 ? <p>Nothing shared yet.</p> : null}
          </section>
        </>
      ) : null}
    </>
  );
}
