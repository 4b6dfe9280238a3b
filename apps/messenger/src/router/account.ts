import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { issueCredential } from "../auth/credentials";
import { normalisePhone, shardOfPhone } from "../phone";
import { createAccount, PhoneNumberTaken } from "../storage/accounts";
import { limitShared, publicProcedure } from "../trpc";

const text = (max: number) => z.string().trim().min(1).max(max);

export const registerInput = z
  .object({
    /** International ("+49 30 …") or national with `defaultCountry`. */
    phoneNumber: z.string().max(40),
    /** ISO 3166-1 alpha-2, used only for numbers written without a country code. */
    defaultCountry: z.string().regex(/^[A-Z]{2}$/).optional(),
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
   * Registers an account with its first device. The returned credential is shown
   * once: the server keeps only its hash.
   */
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    await limitShared(ctx, "registerPerAddress", ctx.remoteAddress);
    const normalised = normalisePhone(input.phoneNumber, input.defaultCountry);
    if (!normalised.ok) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `phoneNumber: ${phoneProblems[normalised.problem]} (use E.164, e.g. +4915123456789, or pass defaultCountry)`,
      });
    }
    const { e164, country } = normalised.phone;
    await limitShared(ctx, "registerPerPhone", e164);
    let credential = "";
    try {
      const createdAt = ctx.services.clock.now();
      const identity = await createAccount(
        ctx.services.sql,
        {
          phoneNumber: e164,
          country,
          shard: shardOfPhone(e164, ctx.services.shardCount),
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
      ctx.services.logger.info({ accountId: identity.accountId, country, kind: input.kind }, "account registered");
      return { accountId: identity.accountId, deviceId: identity.deviceId, credential, phoneNumber: e164 };
    } catch (error) {
      if (error instanceof PhoneNumberTaken) {
        throw new TRPCError({ code: "CONFLICT", message: "this phone number is already registered" });
      }
      throw error;
    }
  }),
} satisfies TRPCRouterRecord;

