/**
 * `@handshake/crypto`: Signal-protocol sessions through libsignal, and the wire
 * format of prekeys and envelopes. The server needs only `./wire` and
 * `verifyPreKeyUpload`; devices use `SignalDevice`.
 */
export * from "./wire";
export {
  SignalDevice,
  deviceStateSchema,
  type DeviceAddress,
  type DeviceState,
  type EncryptedMessage,
  type SignalDeviceOptions,
} from "./device";
export { verifyPreKeyUpload, type VerifyResult } from "./verify";
export {
  CryptoError,
  DecryptionError,
  DuplicateMessageError,
  InvalidBundleError,
  InvalidDeviceStateError,
  NoSessionError,
  UnsupportedEnvelopeTypeError,
  UntrustedIdentityError,
} from "./errors";
export {
  InMemoryIdentityKeyStore,
  InMemoryKyberPreKeyStore,
  InMemoryPreKeyStore,
  InMemorySessionStore,
  InMemorySignedPreKeyStore,
  identityPolicySchema,
  type IdentityPolicy,
} from "./stores";
