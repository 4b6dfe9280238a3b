/**
 * Consent changes through the client SDK while faults happen: accepting the 2016
 * terms with the share box ticked or unticked, and opting out in Settings
 * afterwards. A change that fails is retried until the server records it; an
 * answer "already accepted / already opted out" (CONFLICT) means an earlier
 * attempt was recorded although its reply was lost, which is fine.
 */
import { HandshakeDevice } from "@handshake/client";
import { backoff, sleep, withTimeout } from "./timing";

export type ConsentChange = "accept-share" | "accept-no-share" | "opt-out";

export interface ConsentRecord {
  accountId: string;
  change: ConsentChange;
  /** recorded: answered ok; already: CONFLICT on a retry (an earlier attempt was recorded). */
  outcome: "recorded" | "already" | "refused" | "gave-up" | "pending";
  attempts: number;
  detail?: string;
}

const isConflict = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { data?: { code?: string } }).data?.code === "CONFLICT";

export async function registerConsentAccounts(url: string, count: number, phones: () => string): Promise<HandshakeDevice[]> {
  const devices: HandshakeDevice[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = Array.from({ length: Math.min(8, count - i) }, () =>
      HandshakeDevice.register({ url, phoneNumber: phones(), oneTimePreKeys: 0 }),
    );
    devices.push(...(await Promise.all(batch)));
  }
  return devices;
}

/** Applies one change, retrying through faults; the record says what happened. */
export async function applyChange(device: HandshakeDevice, change: ConsentChange, giveUpMs: number, log: ConsentRecord[]): Promise<ConsentRecord> {
  const record: ConsentRecord = { accountId: device.accountId, change, outcome: "pending", attempts: 0 };
  log.push(record);
  const deadline = Date.now() + giveUpMs;
  while (Date.now() < deadline) {
    record.attempts += 1;
    try {
      const call: Promise<unknown> =
        change === "opt-out" ? device.optOutOfSharing() : device.acceptTerms(change === "accept-share");
      await withTimeout(call, 10_000);
      record.outcome = "recorded";
      return record;
    } catch (error) {
      if (isConflict(error)) {
        // On a first attempt a CONFLICT is a real refusal; after a failed attempt it is our own earlier write.
        record.outcome = record.attempts > 1 ? "already" : "refused";
        record.detail = error instanceof Error ? error.message : String(error);
        return record;
      }
      record.detail = error instanceof Error ? error.message : String(error);
      await sleep(backoff(record.attempts));
    }
  }
  record.outcome = "gave-up";
  return record;
}

export interface ConsentLoadOptions {
  /** Accounts that have not accepted yet: each accepts (ticked or not), some opt out later. */
  fresh: HandshakeDevice[];
  /** Accounts that accepted with the box ticked already (the senders): some opt out mid-stream. */
  sharing: HandshakeDevice[];
  /** Spread the changes over this long. */
  durationMs: number;
  giveUpMs: number;
}

/**
 * Runs the consent changes of one scenario and resolves when all are settled.
 * Deterministic plan: fresh account i ticks the box unless i % 3 == 2; every
 * other ticked one opts out later; two of three sharing accounts (the senders)
 * opt out mid-stream, racing their own usage snapshots.
 */
export async function runConsentChanges(options: ConsentLoadOptions, log: ConsentRecord[]): Promise<void> {
  const chains: { device: HandshakeDevice; changes: ConsentChange[] }[] = [];
  options.fresh.forEach((device, i) => {
    const share = i % 3 !== 2;
    chains.push({ device, changes: share && i % 2 === 0 ? ["accept-share", "opt-out"] : [share ? "accept-share" : "accept-no-share"] });
  });
  options.sharing.forEach((device, i) => {
    if (i % 3 !== 2) chains.push({ device, changes: ["opt-out"] });
  });
  const step = chains.length > 0 ? options.durationMs / chains.length : 0;
  await Promise.all(
    chains.map(async (chain, i) => {
      await sleep(i * step);
      for (const [n, change] of chain.changes.entries()) {
        if (n > 0) await sleep(options.durationMs / 4);
        const record = await applyChange(chain.device, change, options.giveUpMs, log);
        if (record.outcome === "gave-up" || record.outcome === "refused") return;
      }
    }),
  );
}
