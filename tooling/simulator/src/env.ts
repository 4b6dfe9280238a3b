/** The simulator's environment, validated once (the stack sets these). */
import { z } from "zod";

export const simulatorEnv = z
  .object({
    /** The messenger's tRPC endpoint. */
    MESSENGER_URL: z.url().default("http://127.0.0.1:4100/trpc"),
    ADMIN_TOKEN: z.string().min(1),
    /** The control endpoint's port. */
    PORT: z.coerce.number().int().min(0).max(65535).default(4300),
    HOST: z.string().default("127.0.0.1"),
    /** `pnpm dev --speed …`: pause, realtime, 1d/min, 1d/s, 6h/s … */
    SIM_SPEED: z.string().default("1d/min"),
    /** Live personal devices. */
    SIM_DEVICES: z.coerce.number().int().min(0).max(500).default(40),
    /** Messages per real second the whole world may send at most. */
    SIM_MESSAGE_BUDGET: z.coerce.number().min(0).max(200).default(10),
  })
  .parse(process.env);
