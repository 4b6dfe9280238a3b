/**
 * Delivers verification codes to phones. There is no real SMS or voice gateway
 * here: the simulated carrier "delivers" into `simulated_phone_inbox`, the
 * simulated phone network, which test clients, the demo and the simulator read
 * through `phoneSimulator.readCode` (dev/test only, see env.ts `PHONE_CARRIER`).
 * A deployment with real phones would implement `PhoneCarrier` with a gateway.
 */
import type postgres from "postgres";
import type { Transport } from "../storage/verification";

export interface PhoneCarrier {
  /** Whether delivered codes can be read back through the simulator procedure. */
  readonly simulated: boolean;
  deliver(delivery: { sessionId: string; phoneNumber: string; transport: Transport; code: string }): Promise<void>;
}

export class SimulatedPhoneCarrier implements PhoneCarrier {
  readonly simulated = true;

  constructor(private readonly sql: postgres.Sql) {}

  async deliver({ sessionId, phoneNumber, transport, code }: { sessionId: string; phoneNumber: string; transport: Transport; code: string }) {
    const body =
      transport === "sms"
        ? `Your Handshake code: ${code.slice(0, 3)}-${code.slice(3)}. Don't share this code with anyone.`
        : `Your Handshake code is ${code.split("").join(" ")}.`;
    await this.sql`
      insert into simulated_phone_inbox (session_id, phone_number, transport, body)
      values (${sessionId}, ${phoneNumber}, ${transport}, ${body})`;
  }

  /** The delivery of one session: its text and the code in it (null when none). */
  async read(sessionId: string): Promise<{ phoneNumber: string; transport: Transport; body: string; code: string } | null> {
    const [row] = await this.sql<{ phone_number: string; transport: Transport; body: string }[]>`
      select phone_number, transport, body from simulated_phone_inbox where session_id = ${sessionId}`;
    if (!row) return null;
    return { phoneNumber: row.phone_number, transport: row.transport, body: row.body, code: row.body.replace(/\D/g, "").slice(0, 6) };
  }
}
