import { randomInt, randomUUID } from "node:crypto";
import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { issueCredential } from "../auth/credentials";
import { shardOfPhone } from "@handshake/db/messenger-shards";
import { normalisePhone } from "../phone";
import { registerVerifiedNumber } from "../storage/accounts";
import { CODE_TTL_SECONDS, openVerification, presentCode } from "../storage/verification";
import { limitShared, publicProcedure } from "../trpc";

const text = (max: number) => z.string().trim().min(1).max(max);

export const requestCodeInput = z.object({
  /** International ("+49 30 …") or national with `defaultCountry`. */
  phoneNumber: z.string().max(40),
  /** ISO 3166-1 alpha-2, used only for numbers written without a country code. */
  defaultCountry: z.string().regex(/^[A-Z]{2}$/).optional(),
  transport: z.enum(["sms", "voice"]).default("sms"),
});

export const registerInput = z
  .object({
    /** From `account.requestCode`. */
    sessionId: z.uuid({ error: "sessionId must be the UUID account.requestCode returned" }),
    /** The 6-digit code the phone received. */
    code: z.string().regex(/^\d{6}$/, { error: "code: the 6 digits the phone received" }),
    kind: z.enum(["personal", "business"]).default("personal"),
    /** Required for businesses: the name their customers see. */
    displayName: text(64).optional(),
    device: z.object({
      os: z.enum(["android", "ios", "other"]),
      osVersion: text(32),
      appVersion: text(32),
      model: text(64),
    }),
  })
  .refine((v) => v.kind !== "business" || v.displayName, {
    message: "a business account needs a displayName",
    path: ["displayName"],
  });

const phoneProblems = {
  unparseable: "not a phone number",
  invalid: "not a valid number for its country",
  "no-region": "the number's country could not be determined",
} as const;

export const accountRouter = {
  /**
   * Step 1 of registration: sends a 6-digit code to the number by SMS or voice
   * call. The answer is the same whether or not the number is registered: nothing
   * about a number is revealed before its possession is proven.
   */
  requestCode: publicProcedure.input(requestCodeInput).mutation(async ({ ctx, input }) => {
    await limitShared(ctx, "codePerAddress", ctx.remoteAddress);
    const normalised = normalisePhone(input.phoneNumber, input.defaultCountry);
    if (!normalised.ok) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `phoneNumber: ${phoneProblems[normalised.problem]} (use E.164, e.g. +4915123456789, or pass defaultCountry)`,
      });
    }
    const carrier = ctx.services.carrier;
    if (!carrier) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: "no phone carrier is configured, so no code can be delivered (PHONE_CARRIER=simulated outside production)",
      });
    }
    const { e164 } = normalised.phone;
    await limitShared(ctx, "codePerPhone", e164);
    await limitShared(ctx, "codeGlobal", "all");
    const sessionId = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    await openVerification(ctx.services.sql, e164, input.transport, sessionId, code);
    await carrier.deliver({ sessionId, phoneNumber: e164, transport: input.transport, code });
    return { sessionId, transport: input.transport, codeLength: 6, expiresInSeconds: CODE_TTL_SECONDS };
  }),

  /**
   * Step 2: the code proves possession of the number; the account is created with
   * its first device, or — when the number was registered — taken over by this new
   * device, as WhatsApp does (the old devices are logged out). The returned
   * credential is shown once: the server keeps only its hash.
   */
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    await limitShared(ctx, "registerPerAddress", ctx.remoteAddress);
    const verified = await presentCode(ctx.services.sql, input.sessionId, input.code);
    if (!verified.ok) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message:
          verified.reason === "wrong-code"
            ? `wrong code (${verified.attemptsLeft} attempt${verified.attemptsLeft === 1 ? "" : "s"} left for this session)`
            : "this verification session is unknown, expired, already used or out of attempts: request a new code",
      });
    }
    const e164 = verified.phoneNumber;
    await limitShared(ctx, "registerPerPhone", e164);
    const normalised = normalisePhone(e164);
    const country = normalised.ok ? normalised.phone.country : "ZZ";
    let credential = "";
    const createdAt = ctx.services.clock.now();
    const shard = shardOfPhone(e164, ctx.services.shardCount);
    const registration = await registerVerifiedNumber(
      { home: ctx.services.sql, account: ctx.services.shards.forShard(shard).sql, databaseOf: ctx.services.shards.sqlFor },
      {
        phoneNumber: e164,
        country,
        shard,
        kind: input.kind,
        displayName: input.displayName ?? null,
        device: input.device,
        createdAt,
      },
      (device) => {
        const issued = issueCredential(device);
        credential = issued.credential;
        return issued.hash;
      },
      (tx, account) => ctx.services.share.onAccountCreated(tx, account, createdAt),
    );
    for (const deviceId of registration.replacedDevices) {
      const old = { accountId: registration.accountId, deviceId };
      ctx.services.authenticator.revoke(old);
      ctx.services.deviceSockets.disconnect(old);
    }
    ctx.services.logger.info(
      { accountId: registration.accountId, country, kind: input.kind, reregistered: registration.reregistered },
      registration.reregistered ? "number verified on a new device: account taken over" : "account registered",
    );
    return {
      accountId: registration.accountId,
      deviceId: registration.deviceId,
      credential,
      phoneNumber: e164,
      reregistered: registration.reregistered,
    };
  }),
} satisfies TRPCRouterRecord;
