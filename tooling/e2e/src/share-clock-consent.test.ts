/**
 * The simulation clock does not outrun a consent change. An opt-out recorded at
 * simulated time T waits in the outbox behind a slow batch while an admin jumps the
 * clock seven hours (what the simulator does every tick at 3d/s): before, Facebook
 * used the account's device data for ads at T + 7 h, judged by consent it had not
 * received yet, and the privacy audit failed. Now the move waits until the opt-out
 * has shipped (apps/messenger `ShareShipper.afterConsentShipped`), so Facebook has
 * withdrawn before the new time exists.
 */
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "@handshake/db/embedded";
import { runPrivacyAudit } from "@handshake/privacy-audit";
import { IngestProxy } from "./ingest-proxy";
import { facebookAdmin, startPipeline, type Pipeline } from "./harness";

const ANNOUNCED = new Date("2016-08-25T00:00:00Z");
const SEVEN_HOURS = 7 * 3600_000;

let pipeline: Pipeline | null = null;
let proxy: IngestProxy | null = null;
afterEach(async () => {
  await pipeline?.close();
  pipeline = null;
  await proxy?.close();
  proxy = null;
});

describe("a clock jump right after an opt-out", () => {
  it("waits until the opt-out reached Facebook: no ads use of the account at the new time, and the audit passes", async () => {
    const proxyPort = await freePort();
    const p = (pipeline = await startPipeline({ regime: "optout-2016", shipVia: proxyPort, facebookUp: false }));
    proxy = await IngestProxy.start(proxyPort, () => p.facebookPort);
    const fb = await p.startFacebook();
    const [optingOut, other] = [await p.register("+919812300001"), await p.register("+919812300002")];
    // Facebook's own profile holds the number: the shared phone links it, and its device model may serve ads.
    await facebookAdmin(fb.url).profiles.upsert.mutate({ profiles: [{ id: 80_001, name: "Opting Out", country: "IN", phoneNumber: "+919812300001" }] });
    await p.admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3600_000).toISOString() });
    await optingOut.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    const shipper = p.messenger.server.services.share.shipper!;
    await shipper.drained();
    await expect(facebookAdmin(fb.url).ads.deviceTarget.query({ profileId: 80_001 })).resolves.toMatchObject({ deviceModel: "SM-G920F" });

    // Facebook's ingest turns slow. Another account's acceptance is in flight when the opt-out is recorded,
    // so the opt-out waits in the outbox behind it while the clock is moved.
    proxy.delayMs = 1_500;
    await other.api.terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: true });
    await expect.poll(() => proxy!.holding, { timeout: 10_000, interval: 10 }).toBe(1);
    await optingOut.api.settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    const { now } = await p.admin.admin.advanceClock.mutate({ ms: SEVEN_HOURS });

    // At the new time Facebook must already know: device data for ads is refused, not used.
    await expect(facebookAdmin(fb.url).ads.deviceTarget.query({ profileId: 80_001 })).rejects.toThrow(/no device data may serve ads/);
    const uses = await fb.server.services.sql<{ at: Date }[]>`
      select at from audit_log where whatsapp_account_id = ${optingOut.accountId} and purpose = 'ads' and at >= ${new Date(Date.parse(now) - 60_000)}`;
    expect(uses).toEqual([]);

    await shipper.drained();
    const report = await runPrivacyAudit({ messengerUrl: p.messenger.databaseUrl, facebookUrl: fb.databaseUrl });
    expect(report.checks.filter((c) => c.verdict === "fail").map((c) => c.id), JSON.stringify(report.checks)).toEqual([]);
  }, 120_000);
});
