/**
 * Connected users held by one VU: each keeps its inbox open, acks what arrives and
 * times it. Sending is not done here: an arrival-rate scenario sends (lib/senders.ts),
 * so the offered rate is k6's own and a server that falls behind shows up as
 * `dropped_iterations`, not as a quietly slower loop.
 */
import { check } from "k6";
import exec from "k6/execution";
import { sentAtOf, sentAtOfMessageId } from "./content.ts";
import { users } from "./fixtures.ts";
import { InboxConnection, type Envelope } from "./inbox-connection.ts";
import type { ConnectedLayout } from "./layout.ts";
import {
  connectLatency,
  connectionsAttempted,
  connectionsOk,
  deliveryLatency,
  errors,
  generatorLag,
  messagesReceived,
  receiptLatency,
  receipts,
} from "./metrics.ts";
import { sleepMs } from "./pacing.ts";

export const RECEIPT = 5;
/** How often a holder VU checks its own timer lateness. */
const LAG_PROBE_MS = 500;

export interface HolderOptions {
  group: number[];
  layout: ConnectedLayout;
  /** Tag for a latency sample by its send time (e.g. live vs backlog in the reconnect storm). */
  phase?: (sentAtMs: number) => string;
  /** Sees every envelope a group member receives (scenario-specific checks). */
  inspect?: (recipientIndex: number, envelope: Envelope) => void;
}

export type ResumePoints = Map<number, { lastEventId: string | null; unacked: string[] }>;

export class HolderGroup {
  readonly connections = new Map<number, InboxConnection>();

  constructor(private readonly options: HolderOptions) {}

  /** Opens every connection (spread over `spreadMs`) and waits until each has started, failed or timed out. */
  async connect(spreadMs: number, resume?: ResumePoints): Promise<void> {
    const opened: Promise<void>[] = [];
    const step = this.options.group.length > 0 ? spreadMs / this.options.group.length : 0;
    for (const index of this.options.group) {
      opened.push(
        new Promise<void>((resolve) => {
          const user = users[index]!;
          connectionsAttempted.add(1);
          let settled = false;
          const settle = (ok: boolean) => {
            if (settled) return;
            settled = true;
            connectionsOk.add(ok);
            resolve();
          };
          const connection = new InboxConnection(
            user.credential,
            {
              onStarted: () => {
                for (const id of resume?.get(index)?.unacked ?? []) connection.ack(id);
                connectLatency.add(connection.startedAt - connection.openedAt);
                errors.add(false, { what: "connect" });
                settle(true);
              },
              onEnvelope: (envelope, receivedAt) => this.onEnvelope(index, connection, envelope, receivedAt),
              onError: (what, error) => {
                errors.add(true, { what });
                check(error, { [`${what} answered without error`]: () => false });
                if (!connection.started) settle(false);
              },
              onClose: () => settle(connection.started),
            },
            { lastEventId: resume?.get(index)?.lastEventId ?? null },
          );
          this.connections.set(index, connection);
        }),
      );
      if (step >= 1) await sleepMs(step);
    }
    await Promise.all(opened);
  }

  private onEnvelope(index: number, connection: InboxConnection, envelope: Envelope, receivedAt: number) {
    connection.ack(envelope.id);
    this.options.inspect?.(index, envelope);
    if (envelope.type === RECEIPT) {
      const sentAt = sentAtOfMessageId(envelope.messageId);
      if (sentAt !== null) {
        receipts.add(1);
        receiptLatency.add(receivedAt - sentAt);
      }
      return;
    }
    messagesReceived.add(1);
    const sentAt = sentAtOf(envelope.content);
    if (sentAt !== null) deliveryLatency.add(receivedAt - sentAt, this.options.phase ? { phase: this.options.phase(sentAt) } : {});
  }

  /** Stays connected until `untilMs` (epoch ms), sampling how late this VU's timers fire. */
  async holdUntil(untilMs: number): Promise<void> {
    while (Date.now() < untilMs) {
      const wait = Math.min(LAG_PROBE_MS, untilMs - Date.now());
      const from = Date.now();
      await sleepMs(wait);
      generatorLag.add(Math.max(0, Date.now() - from - wait));
    }
  }

  /** Where each connection would resume (last envelope id, acks not yet confirmed), then forgets them. */
  resumePoints(): ResumePoints {
    const points: ResumePoints = new Map();
    for (const [index, connection] of this.connections) points.set(index, { lastEventId: connection.lastEventId, unacked: connection.unconfirmedAcks() });
    this.connections.clear();
    return points;
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.close();
  }
}

/**
 * One holder VU of a per-vu-iterations scenario: connects its group of `layout`,
 * stays until `holdSeconds` after the scenario started (senders done, last
 * receipts in), then hangs up.
 */
export async function holdGroupUntil(layout: ConnectedLayout, holdSeconds: number, spreadMs: number): Promise<void> {
  const group = new HolderGroup({ group: layout.groupOf(exec.scenario.iterationInTest), layout });
  await group.connect(spreadMs);
  await group.holdUntil(exec.scenario.startTime + holdSeconds * 1000);
  group.closeAll();
}
