/**
 * Two sides of one account: what the messenger holds (left) and what Facebook
 * holds and does not have (right), with a regime switcher to see the right side change.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation, useSearchParams } from "wouter";
import { REGIMES } from "@handshake/consent";
import { describeError, REFRESH_MS, useFacebook, useMessenger } from "../api";
import { count, simTime } from "../format";
import { ErrorNote, Stat } from "../widgets";

type Filter = "any" | "opted-out" | "sharing" | "not-accepted";
const REGIME_CHOICES = ["historical-2016", ...REGIMES] as const;

export function AccountsPage() {
  const [params] = useSearchParams();
  const accountId = params.get("id");
  return (
    <>
      <h1>Two sides of one account</h1>
      <p className="lede">
        Pick an account. Left: what the messenger holds — metadata and ciphertext sizes, never content. Right: what Facebook
        received through the share pipeline, what it used it for, and what it does not have.
      </p>
      <AccountSearch selected={accountId} />
      {accountId ? <TwoSides accountId={accountId} /> : null}
    </>
  );
}

function AccountSearch({ selected }: { selected: string | null }) {
  const [, navigate] = useLocation();
  const [query, setQuery] = useState("");
  const [country, setCountry] = useState("");
  const [filter, setFilter] = useState<Filter>("any");
  const [submitted, setSubmitted] = useState({ query: "", country: "", filter: "any" as Filter });
  const messenger = useMessenger();
  const results = useQuery({
    ...messenger.dashboard.findAccounts.queryOptions({
      ...(submitted.query ? { query: submitted.query } : {}),
      ...(submitted.country ? { country: submitted.country } : {}),
      ...(submitted.filter === "opted-out" ? { optedOut: true } : submitted.filter === "sharing" ? { optedOut: false, accepted: true } : {}),
      ...(submitted.filter === "not-accepted" ? { accepted: false } : {}),
      limit: selected ? 5 : 12,
    }),
    placeholderData: keepPreviousData,
  });
  const search = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted({ query: query.trim(), country: country.trim().toUpperCase(), filter });
  };
  return (
    <section aria-labelledby="find-title" className="panel">
      <h2 id="find-title">Find an account</h2>
      <form onSubmit={search} className="search-form" role="search">
        <div className="field">
          <label htmlFor="find-query">Phone number or account id (prefix)</label>
          <input id="find-query" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="+91 98…" />
        </div>
        <div className="field">
          <label htmlFor="find-country">Country code</label>
          <input id="find-country" value={country} maxLength={2} onChange={(e) => setCountry(e.target.value)} placeholder="IN" />
        </div>
        <div className="field">
          <label htmlFor="find-filter">Share choice</label>
          <select id="find-filter" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
            <option value="any">Any</option>
            <option value="opted-out">Opted out (box unticked or Settings)</option>
            <option value="sharing">Accepted and sharing</option>
            <option value="not-accepted">Has not accepted the 2016 terms</option>
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={results.error} what="messenger" />
      {results.data ? (
        results.data.accounts.length === 0 ? (
          <p>No account matches.</p>
        ) : (
          <table className="compact" data-testid="account-results">
            <caption>Matching accounts (first {results.data.accounts.length})</caption>
            <thead>
              <tr>
                <th scope="col">Phone</th>
                <th scope="col">Country</th>
                <th scope="col">Share choice</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {results.data.accounts.map((a) => (
                <tr key={a.id} aria-selected={a.id === selected}>
                  <td>{a.phoneNumber}</td>
                  <td>{a.country}</td>
                  <td>{!a.accepted ? "not accepted" : a.optedOut ? `opted out (${a.method})` : `sharing (${a.method})`}</td>
                  <td>
                    <button type="button" onClick={() => navigate(`/accounts?id=${a.id}`)} aria-label={`Show account ${a.phoneNumber}`}>
                      Show
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
}

function TwoSides({ accountId }: { accountId: string }) {
  const messenger = useMessenger();
  const facebook = useFacebook();
  const left = useQuery({ ...messenger.dashboard.account.queryOptions({ accountId }), refetchInterval: REFRESH_MS });
  const right = useQuery({ ...facebook.accounts.view.queryOptions({ whatsappAccountId: accountId }), refetchInterval: REFRESH_MS });
  const m = left.data;
  const f = right.data;
  const adsUse = f ? f.fields.some((x) => x.purposes.includes("ads")) || f.uses.some((u) => u.purpose === "ads") : null;
  return (
    <>
      <RegimeSwitcher current={m?.regime} />
      <div className="two-sides">
        <section aria-labelledby="left-title" className="panel side" data-testid="messenger-side">
          <h2 id="left-title">What the messenger holds</h2>
          <ErrorNote error={left.error} what="messenger" />
          {left.data === null ? <p>No such account.</p> : null}
          {m ? (
            <>
              <dl className="stats">
                <Stat label="Phone" value={m.account.phoneNumber} />
                <Stat label="Country" value={m.account.country} />
                <Stat label="Shard" value={m.account.shard} />
                <Stat label="Registered" value={simTime(m.account.createdAt)} />
              </dl>
              <h3>Devices and keys</h3>
              <ul className="plain">
                {m.devices.map((d) => (
                  <li key={d.deviceId}>
                    Device {d.deviceId}: {d.model}, {d.os} {d.osVersion}, app {d.appVersion} — {d.keys.signedPrekeys} signed prekey,{" "}
                    {d.keys.oneTimePrekeys} one-time prekeys, {d.keys.kyberPrekeys + d.keys.kyberLastResort} Kyber prekeys
                  </li>
                ))}
              </ul>
              <h3>Queued envelopes (ciphertext)</h3>
              <p>
                {count(m.envelopes.queuedFor)} waiting for this account ({count(m.envelopes.bytesQueuedFor)} bytes of ciphertext),{" "}
                {count(m.envelopes.queuedFrom)} sent by it and not yet delivered. The server cannot read any of them.
              </p>
              {m.envelopes.recent.length > 0 ? (
                <table className="compact">
                  <caption>Most recent envelopes: metadata and size only</caption>
                  <thead>
                    <tr>
                      <th scope="col">Direction</th>
                      <th scope="col">Peer</th>
                      <th scope="col">Type</th>
                      <th scope="col" className="num">Bytes</th>
                      <th scope="col">Stored</th>
                    </tr>
                  </thead>
                  <tbody>
                    {m.envelopes.recent.slice(0, 8).map((e) => (
                      <tr key={`${e.direction}/${e.id}`}>
                        <td>{e.direction === "in" ? "received" : "sent"}</td>
                        <td>{e.peerAccountId.slice(0, 8)}…</td>
                        <td>{e.type === 5 ? "receipt" : e.type === 3 ? "prekey msg" : "message"}</td>
                        <td className="num">{count(e.bytes)}</td>
                        <td>{simTime(e.serverTimestamp)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
              <h3>Consent history</h3>
              {m.consent.history.length === 0 ? (
                <p>No choices recorded{m.consent.terms ? ` (terms ${m.consent.terms.version} at registration)` : ""}.</p>
              ) : (
                <ol className="plain" data-testid="consent-history">
                  {m.consent.history.map((h, i) => (
                    <li key={i}>
                      {simTime(h.at)} — {h.kind}
                      {h.kind === "terms-accepted" ? ` ${h.policyVersion}, box ${h.shareWithFacebook ? "ticked" : "unticked"}` : ""}
                      {h.method ? ` (${h.method})` : ""}
                    </li>
                  ))}
                </ol>
              )}
              <h3>May its data serve… (now, under the regime in force)</h3>
              <ul className="purposes" data-testid="messenger-purposes">
                {Object.entries(m.consent.purposes).map(([purpose, allowed]) => (
                  <li key={purpose} className={allowed ? "yes" : "no"}>
                    {purpose}: {allowed ? "yes" : "no"}
                  </li>
                ))}
              </ul>
              <h3>Share events sent</h3>
              <p>{count(m.shareEvents.total)} events written to the outbox for this account.</p>
              <ul className="plain">
                {m.shareEvents.recent.slice(0, 5).map((e) => (
                  <li key={e.id}>
                    #{e.id} {e.kind} at {simTime(e.occurredAt)} — {e.fields.length === 0 ? "nothing (delete what you hold)" : e.fields.map((x) => x.field).join(", ")}
                    {e.shippedAt ? "" : " (not shipped yet)"}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <section aria-labelledby="right-title" className="panel side" data-testid="facebook-side">
          <h2 id="right-title">What Facebook holds</h2>
          <ErrorNote error={right.error} what="Facebook side" />
          {f ? (
            <>
              <p className={adsUse ? "verdict yes" : "verdict no"} data-testid="facebook-ads-use">
                {adsUse ? "Used for ads: yes" : "Used for ads: no"}
              </p>
              {f.fields.length === 0 ? (
                <p>Facebook holds no shared field for this account.</p>
              ) : (
                <table className="compact" data-testid="facebook-fields">
                  <caption>Shared fields and the purposes each may serve</caption>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Value</th>
                      <th scope="col">Purposes</th>
                    </tr>
                  </thead>
                  <tbody>
                    {f.fields.map((x) => (
                      <tr key={x.field}>
                        <td>{x.field}</td>
                        <td>{typeof x.value === "object" ? JSON.stringify(x.value) : String(x.value)}</td>
                        <td>{x.purposes.join(", ")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <h3>Link to a Facebook profile</h3>
              <p>{f.link ? `Linked to profile ${f.link.profileId}${f.link.name ? ` (${f.link.name})` : ""} at ${simTime(f.link.linkedAt)}.` : "Not linked."}</p>
              <h3>Uses of this data (audited)</h3>
              {f.uses.length === 0 ? (
                <p>None.</p>
              ) : (
                <ul className="plain" data-testid="facebook-uses">
                  {f.uses.map((u) => (
                    <li key={`${u.feature}/${u.purpose}`}>
                      {u.feature} for {u.purpose}: {count(u.count)} (last {simTime(u.lastAt)})
                    </li>
                  ))}
                </ul>
              )}
              <p>Custom Audience memberships: {count(f.audienceMemberships)}</p>
              <h3>What Facebook does not have</h3>
              <ul className="plain" data-testid="facebook-not-held">
                {f.notHeld.map((x) => (
                  <li key={x}>{x} (not shared now)</li>
                ))}
                {f.neverHeld.map((x) => (
                  <li key={x}>{x} — never shared, by design</li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      </div>
    </>
  );
}

/** Switches the regime in force; both sides' cached views of accounts are then stale. */
function RegimeSwitcher({ current }: { current: unknown }) {
  const messenger = useMessenger();
  const facebook = useFacebook();
  const queryClient = useQueryClient();
  const [choice, setChoice] = useState<(typeof REGIME_CHOICES)[number]>("historical-2016");
  const [status, setStatus] = useState<string | null>(null);
  const switchRegime = useMutation(
    messenger.share.setRegime.mutationOptions({
      onSuccess: async (result, input) => {
        setStatus(`Regime ${String(input.regime)} in force from ${simTime(result.at)}: ${count(result.events)} share events written; Facebook updates as they arrive.`);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: messenger.dashboard.pathKey() }),
          queryClient.invalidateQueries({ queryKey: facebook.accounts.pathKey() }),
        ]);
      },
      onError: (error) => setStatus(`Could not switch: ${describeError(error)}`),
    }),
  );
  const busy = switchRegime.isPending;
  const apply = (event: FormEvent) => {
    event.preventDefault();
    switchRegime.mutate({ regime: choice });
  };
  return (
    <section aria-labelledby="regime-title" className="panel">
      <h2 id="regime-title">Consent regime</h2>
      <p>
        In force: <strong data-testid="regime-current">{typeof current === "string" ? current : current ? "custom" : "…"}</strong>. Switching it
        re-sends every accepted account&rsquo;s snapshot; Facebook deletes what it may no longer hold.
      </p>
      <form onSubmit={apply} className="inline-form">
        <label htmlFor="regime-select">Switch to</label>
        <select id="regime-select" value={choice} onChange={(e) => setChoice(e.target.value as typeof choice)}>
          {REGIME_CHOICES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          Apply regime
        </button>
      </form>
      <p role="status" className="hint">
        {status ?? ""}
      </p>
    </section>
  );
}
