/**
 * The errors `@handshake/crypto` throws. libsignal's own error (a
 * `LibSignalErrorBase` with a numeric `code`) is kept as `cause`.
 */
import { ErrorCode, LibSignalErrorBase } from "@signalapp/libsignal-client";

/** Base class: catch this to handle every failure of this package. */
export class CryptoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message could not be decrypted (tampered, truncated, unknown prekey, no session ...). */
export class DecryptionError extends CryptoError {}

/**
 * A message that was already decrypted once arrived again (for instance redelivered
 * by store-and-forward before the ack landed). Safe to acknowledge and drop.
 */
export class DuplicateMessageError extends DecryptionError {}

/**
 * A remote device presented an identity key different from the one trusted for it
 * (its owner reinstalled, or someone is in the middle). Under the `strict` policy
 * nothing is sent or accepted until `SignalDevice.trustIdentity` is called.
 */
export class UntrustedIdentityError extends CryptoError {}

/** `encrypt` was called for a device we have no usable session with: fetch its bundle first. */
export class NoSessionError extends CryptoError {}

/** A prekey bundle did not deserialize, did not match the address, or failed its signatures. */
export class InvalidBundleError extends CryptoError {}

/** `decrypt` was given an envelope type that carries no Signal message (e.g. a receipt). */
export class UnsupportedEnvelopeTypeError extends CryptoError {}

/** Stored device state could not be restored. */
export class InvalidDeviceStateError extends CryptoError {}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps a failure thrown by libsignal during `what` to one of ours; `fallback`
 * builds the error for codes without a dedicated class.
 */
export function wrapLibsignalError(
  error: unknown,
  what: string,
  fallback: (message: string, options: { cause: unknown }) => CryptoError,
): CryptoError {
  if (error instanceof CryptoError) return error;
  const detail = describe(error);
  if (error instanceof LibSignalErrorBase) {
    if (error.is(ErrorCode.UntrustedIdentity)) {
      return new UntrustedIdentityError(`${what}: the remote identity key changed and is not trusted (${detail})`, {
        cause: error,
      });
    }
    if (error.is(ErrorCode.DuplicatedMessage)) {
      return new DuplicateMessageError(`${what}: message already received (${detail})`, { cause: error });
    }
  }
  return fallback(`${what}: ${detail}`, { cause: error });
}
