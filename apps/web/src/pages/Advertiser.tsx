/** Advertiser view: an advertiser's Custom Audiences exactly as it sees them — names and size ranges only. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { REFRESH_MS, useFacebook } from "../api";
import { count, simTime } from "../format";
import { ErrorNote } from "../widgets";

export function AdvertiserPage() {
  const [advertiserId, setAdvertiserId] = useState("");
  const facebook = useFacebook();
  const v = useQuery({
    ...facebook.dashboard.advertiserView.queryOptions(advertiserId ? { advertiserId } : {}),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const data = v.data;
  return (
    <>
      <h1>Advertiser view</h1>
      <p className="lede">
        What an advertiser gets back after uploading hashed phone numbers: a name, the rows it sent and an approximate size
        range — nothing when fewer than the minimum matched, and never who matched. The range is noised per uploaded list so
        that adding one number cannot reveal whether that person is on Facebook.
      </p>
      <ErrorNote error={v.error} what="Facebook side" />
      <section aria-labelledby="adv-title" className="panel">
        <h2 id="adv-title">Audiences</h2>
        {data && data.advertisers.length === 0 ? (
          <p>No advertiser yet. Advertisers are created with <code>advertisers.create</code> on the Facebook side.</p>
        ) : (
          <div className="field">
            <label htmlFor="advertiser-select">Advertiser</label>
            <select id="advertiser-select" value={data?.selected?.advertiserId ?? advertiserId} onChange={(e) => setAdvertiserId(e.target.value)}>
              {data?.advertisers.map((a) => (
                <option key={a.advertiserId} value={a.advertiserId}>
                  {a.name} ({a.audiences} audiences)
                </option>
              ))}
            </select>
          </div>
        )}
        {data?.selected ? (
          data.selected.audiences.length === 0 ? (
            <p>{data.selected.name} has no audience yet.</p>
          ) : (
            <table data-testid="advertiser-audiences">
              <caption>{data.selected.name}&rsquo;s Custom Audiences, as {data.selected.name} sees them</caption>
              <thead>
                <tr>
                  <th scope="col">Audience</th>
                  <th scope="col" className="num">Rows uploaded</th>
                  <th scope="col">Created</th>
                  <th scope="col">Estimated size</th>
                </tr>
              </thead>
              <tbody>
                {data.selected.audiences.map((a) => (
                  <tr key={a.audienceId}>
                    <td>{a.name}</td>
                    <td className="num">{count(a.uploadedRows)}</td>
                    <td>{simTime(a.createdAt)}</td>
                    <td>{a.size.tooSmall ? "Too small to show" : `${a.size.label} people`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        ) : null}
      </section>
    </>
  );
}
