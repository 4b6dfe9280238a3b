import { TRPCError, type TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { SimulatedPhoneCarrier } from "../auth/phone-carrier";
import { publicProcedure } from "../trpc";

/**
 * The simulated phone network, for test clients, the demo and the simulator: what
 * a phone received. Dev/test only — it exists only with the simulated carrier
 * (`PHONE_CARRIER=simulated`, refused when NODE_ENV=production).
 */
export const phoneSimulatorRouter = {
  /** The SMS or call a verification session sent, and the code in it. */
  readCode: publicProcedure.input(z.object({ sessionId: z.uuid() })).query(async ({ ctx, input }) => {
    const carrier = ctx.services.carrier;
    if (!(carrier instanceof SimulatedPhoneCarrier)) {
      throw new TRPCError({ code: "FORBIDDEN", message: "the simulated phone network is off (PHONE_CARRIER=simulated, dev and test only)" });
    }
    const delivery = await carrier.read(input.sessionId);
    if (!delivery) throw new TRPCError({ code: "NOT_FOUND", message: "no code was delivered for this session" });
    return delivery;
  }),
} satisfies TRPCRouterRecord;
