/**
 * `@handshake/client`: a typed device SDK for the messenger, used by tests, the
 * demo and fixtures. It registers (verifying the number with a code), publishes keys, connects over WebSocket,
 * encrypts with the Signal protocol before sending, and yields decrypted messages,
 * acknowledging each envelope only after it was decrypted.
 */
export { DISPLACED_CLOSE_CODE, HandshakeDevice, type DeviceInfo, type ReceivedMessage, type DeliveryReceipt } from "./device";
export { createMessengerClient, type MessengerClient } from "./trpc-client";
export { verifyAndRegister, type RegistrationRequest } from "./registration";
