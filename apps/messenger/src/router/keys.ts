import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { verifyPreKeyUpload } from "@handshake/crypto";
import { preKeyBundleSchema, preKeyUploadSchema } from "@handshake/crypto/wire";
import { countKeys, storeKeys, takeBundle } from "../storage/keys";
import { deviceProcedure, limit, limitShared } from "../trpc";

const bytes = (b64: string) => Buffer.from(b64, "base64");

export const keysRouter = {
  /** Publishes this device's identity key and prekeys; signatures are checked. */
  upload: deviceProcedure.input(preKeyUploadSchema).mutation(async ({ ctx, input }) => {
    limit(ctx, "keysUpload", `${ctx.device.accountId}:${ctx.device.deviceId}`);
    const verdict = verifyPreKeyUpload(input);
    if (!verdict.ok) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `key upload refused: ${verdict.problems.join("; ")}` });
    }
    await storeKeys(ctx.services.shards.sqlFor(ctx.device.accountId), ctx.device, {
      identityKey: bytes(input.identityKey),
      registrationId: input.registrationId,
      signedPreKey: { ...input.signedPreKey, publicKey: bytes(input.signedPreKey.publicKey), signature: bytes(input.signedPreKey.signature) },
      kyberPreKey: { ...input.kyberPreKey, publicKey: bytes(input.kyberPreKey.publicKey), signature: bytes(input.kyberPreKey.signature) },
      oneTimePreKeys: input.oneTimePreKeys.map((k) => ({ keyId: k.keyId, publicKey: bytes(k.publicKey) })),
      oneTimeKyberPreKeys: input.oneTimeKyberPreKeys.map((k) => ({
        keyId: k.keyId,
        publicKey: bytes(k.publicKey),
        signature: bytes(k.signature),
      })),
    });
    ctx.services.logger.info(
      { accountId: ctx.device.accountId, deviceId: ctx.device.deviceId, oneTime: input.oneTimePreKeys.length },
      "keys uploaded",
    );
    return countKeys(ctx.services.shards.sqlFor(ctx.device.accountId), ctx.device);
  }),

  /**
   * A prekey bundle for starting a session with a device. Each one-time prekey is
   * handed out exactly once. A requester gets few bundles per target
   * (`prekeysPerPair`), and a target hands out few one-time prekeys per hour to
   * everyone together (`prekeysPerTarget`); past that, or when they run out, the
   * bundle has no one-time prekeys and carries the last-resort Kyber key.
   */
  bundle: deviceProcedure
    .input(z.object({ accountId: z.uuid(), deviceId: z.number().int().min(1).max(127).default(1) }))
    .output(preKeyBundleSchema)
    .query(async ({ ctx, input }) => {
      const requester = `${ctx.device.accountId}.${ctx.device.deviceId}`;
      const target = `${input.accountId}.${input.deviceId}`;
      limit(ctx, "keysBundle", requester);
      await limitShared(ctx, "prekeysPerPair", `${requester}__${target}`);
      const withOneTimeKeys = await ctx.services.limiter.tryShared("prekeysPerTarget", target);
      const bundle = await takeBundle(ctx.services.shards.sqlFor(input.accountId), input, { withOneTimeKeys });
      if (!withOneTimeKeys) ctx.services.logger.debug({ target }, "one-time prekey budget spent: last-resort bundle");
      if (!bundle) {
        throw new TRPCError({ code: "NOT_FOUND", message: "no such device, or it has not uploaded keys" });
      }
      return bundle;
    }),

  /** How many one-time prekeys this device has left (replenish when low). */
  count: deviceProcedure.query(({ ctx }) => countKeys(ctx.services.shards.sqlFor(ctx.device.accountId), ctx.device)),
} satisfies TRPCRouterRecord;
