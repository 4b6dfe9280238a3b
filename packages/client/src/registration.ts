/** Registration of a phone number: request a code, read it as the phone would, present it. */
import type { MessengerClient } from "./trpc-client";

export interface RegistrationRequest {
  phoneNumber: string;
  /** ISO 3166-1 alpha-2 for numbers written without a country code. */
  defaultCountry?: string;
  transport?: "sms" | "voice";
  kind?: "personal" | "business";
  displayName?: string;
  device: { os: "android" | "ios" | "other"; osVersion: string; appVersion: string; model: string };
  /**
   * Reads the code the phone received for a verification session. Default: the
   * messenger's simulated phone network (`phoneSimulator.readCode`, dev/test only).
   */
  readCode?: (sessionId: string) => Promise<string>;
}

/**
 * The whole flow through the messenger's API (`account.requestCode` →
 * the phone's code → `account.register`); returns what `account.register` returns:
 * account id, device id, the credential (shown once), the E.164 number and whether
 * an existing registration of the number was taken over.
 */
export async function verifyAndRegister(api: MessengerClient, request: RegistrationRequest) {
  const { sessionId } = await api.account.requestCode.mutate({
    phoneNumber: request.phoneNumber,
    ...(request.defaultCountry ? { defaultCountry: request.defaultCountry } : {}),
    ...(request.transport ? { transport: request.transport } : {}),
  });
  const code = request.readCode
    ? await request.readCode(sessionId)
    : (await api.phoneSimulator.readCode.query({ sessionId })).code;
  return api.account.register.mutate({
    sessionId,
    code,
    device: request.device,
    ...(request.kind ? { kind: request.kind } : {}),
    ...(request.displayName ? { displayName: request.displayName } : {}),
  });
}
