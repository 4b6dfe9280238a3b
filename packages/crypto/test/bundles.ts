/**
 * Test stand-in for the server's key directory: turns what a device uploaded into
 * the bundle `keys.bundle` would hand out.
 */
import type { DeviceAddress } from "../src/device";
import type { PreKeyBundle, PreKeyUpload } from "../src/wire";

export function bundleFromUpload(
  upload: PreKeyUpload,
  at: DeviceAddress,
  opts: { oneTime?: boolean; oneTimeKyber?: boolean } = {},
): PreKeyBundle {
  const oneTime = opts.oneTime === false ? undefined : upload.oneTimePreKeys?.[0];
  const oneTimeKyber = opts.oneTimeKyber ? upload.oneTimeKyberPreKeys?.[0] : undefined;
  return {
    accountId: at.accountId,
    deviceId: at.deviceId,
    registrationId: upload.registrationId,
    identityKey: upload.identityKey,
    signedPreKey: upload.signedPreKey,
    kyberPreKey: oneTimeKyber ?? upload.kyberPreKey,
    oneTimePreKey: oneTime ?? null,
  };
}
