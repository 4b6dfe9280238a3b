/**
 * Check 5: no advertiser-facing response (recorded verbatim in
 * `advertiser_api_log`) carries a phone number, a 64-hex hash or a profile id.
 * The rules are in ../advertiser-response.ts and the README.
 */
import type postgres from "postgres";
import { scanAdvertiserResponse, type KnownIdentifiers } from "../advertiser-response";
import { streamApiLog } from "../sources/facebook";
import type { CheckRecorder } from "../report";

export async function advertiserResponsesClean(
  facebook: postgres.Sql,
  known: KnownIdentifiers,
  recorder: CheckRecorder,
  progress: (done: number) => void,
): Promise<void> {
  let done = 0;
  await streamApiLog(facebook, (rows) => {
    for (const row of rows) {
      const findings = scanAdvertiserResponse(row.response, known);
      for (const finding of findings) {
        recorder.breach({
          where: "advertiser_api_log.response",
          row: `id ${row.id} (${row.path})`,
          reason: `${finding.kind} at ${finding.path || "(root)"}`,
        });
      }
    }
    recorder.examined += rows.length;
    done += rows.length;
    progress(done);
  });
  recorder.note(`${known.profileIds.size} profile ids and ${known.phoneDigits.size} known phone numbers compared`);
}
