/**
 * The accounts one fault works with, registered before the new terms are
 * announced (so they are existing users, who get the share choice): messaging
 * pairs, accounts that make consent changes during the fault, and the devices
 * of the hostile sockets.
 */
import { HandshakeDevice } from "@handshake/client";
import { registerConsentAccounts } from "../load/consent";
import { MessagingLoad } from "../load/messaging";
import type { SuiteSize } from "./sizes";

export interface Cohort {
  label: string;
  messaging: MessagingLoad;
  consent: HandshakeDevice[];
  /** Receives on a hand-driven socket (slow consumer, flood), and the device that sends to it. */
  target: HandshakeDevice | null;
  targetSender: HandshakeDevice | null;
}

/** Unique Indian mobile numbers (+91 98…): valid for libphonenumber, one regime everywhere. */
export function phoneSequence(start = 10_000_000): () => string {
  let next = start;
  return () => `+9198${String(next++).padStart(8, "0")}`;
}

export async function registerCohort(
  url: string,
  label: string,
  size: SuiteSize,
  phones: () => string,
  withTarget: boolean,
): Promise<Cohort> {
  const messaging = await MessagingLoad.register({
    url,
    label,
    pairs: size.pairs,
    phones,
    intervalMs: size.sendIntervalMs,
    giveUpMs: size.giveUpMs,
  });
  const consent = await registerConsentAccounts(url, size.consentAccounts, phones);
  const target = withTarget ? await HandshakeDevice.register({ url, phoneNumber: phones(), oneTimePreKeys: 2 }) : null;
  const targetSender = withTarget ? await HandshakeDevice.register({ url, phoneNumber: phones(), oneTimePreKeys: 0 }) : null;
  return { label, messaging, consent, target, targetSender };
}

/** Every account of the cohort, for reconciliation. */
export function cohortAccounts(cohort: Cohort): string[] {
  return [
    ...cohort.messaging.accountIds,
    ...cohort.consent.map((d) => d.accountId),
    ...(cohort.target ? [cohort.target.accountId] : []),
    ...(cohort.targetSender ? [cohort.targetSender.accountId] : []),
  ];
}

/**
 * Before the fault: the senders accept the terms with the box ticked (so they can
 * opt out mid-stream), the recipients with it unticked.
 */
export async function acceptBeforeFault(cohort: Cohort): Promise<void> {
  await Promise.all([
    ...cohort.messaging.senders.map((d) => d.acceptTerms(true)),
    ...cohort.messaging.recipients.map((d) => d.acceptTerms(false)),
  ]);
}
