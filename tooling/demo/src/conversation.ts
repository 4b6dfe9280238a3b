/**
 * The demo's conversation: two simulated phones register and converse through the
 * messenger. For every message it prints what the sender typed, what the server
 * stored (ciphertext only, read from its database) and what the recipient decrypted.
 */
import type postgres from "postgres";
import { HandshakeDevice } from "@handshake/client";
import { bold, cyan, dim, type Print } from "./terminal";

const typeName = (type: number) => (type === 3 ? "PreKey message" : type === 1 ? "Signal message" : `type ${type}`);

export interface ConversationOptions {
  /** The messenger's tRPC URL (http://…/trpc). */
  url: string;
  /** The messenger's database, to show what the server holds. */
  sql: postgres.Sql;
  print: Print;
}

/** What the conversation showed, for a test to check against what was printed. */
export interface ConversationResult {
  said: string[];
  decrypted: string[];
  /** Ciphertext the server stored or relayed, base64. */
  ciphertexts: string[];
  queueLeftForBob: number;
  receipts: number;
  /** A ciphertext each of them sent (base64), for the next chapter. */
  sentBy: { alice?: string; bob?: string };
  /** The two phones (their sockets closed; their HTTP API still usable). */
  alice: HandshakeDevice;
  bob: HandshakeDevice;
}

/** Runs the conversation; phones get fresh random numbers, so it can run again on the same database. */
export async function converse({ url, sql, print }: ConversationOptions): Promise<ConversationResult> {
  const suffix = () => String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
  // Both in India, where WhatsApp's 2016 terms applied throughout (no regulator stopped them).
  const alice = await HandshakeDevice.register({
    url,
    phoneNumber: `+9199123${suffix().slice(0, 5)}`,
    device: { os: "android", osVersion: "6.0.1", model: "Samsung SM-G920F" },
  });
  const bob = await HandshakeDevice.register({
    url,
    phoneNumber: `+9198765${suffix().slice(0, 5)}`,
    device: { os: "ios", osVersion: "9.3.5", appVersion: "2.16.10", model: "iPhone 6s" },
  });
  const result: ConversationResult = { said: [], decrypted: [], ciphertexts: [], queueLeftForBob: 0, receipts: 0, sentBy: {}, alice, bob };
  print(`\n${bold("1. Two phones register")} and publish their prekeys (20 one-time keys each).`);
  print(`   Alice ${alice.phoneNumber}  account ${dim(alice.accountId)}`);
  print(`   Bob   ${bob.phoneNumber}  account ${dim(bob.accountId)}`);

  async function showStored(envelopeId: string) {
    const [row] = await sql<{ type: number; content: Buffer; recipient_shard: number }[]>`
      select type, content, recipient_shard from envelopes where id = ${envelopeId}`;
    if (!row) {
      print(`     ${cyan("server holds")}   nothing: delivered, acknowledged and deleted`);
      return;
    }
    result.ciphertexts.push(row.content.toString("base64"));
    const hex = row.content.toString("hex");
    print(
      `     ${cyan("server holds")}   envelope #${envelopeId}, ${typeName(row.type)}, ${row.content.length} bytes, shard ${row.recipient_shard}: ${dim(hex.slice(0, 64) + "…")}`,
    );
  }

  print(`\n${bold("2. Bob is offline.")} Alice writes; the server can only store ciphertext for him.`);
  const offline = ["Hi Bob! Did you see WhatsApp's new terms?", "They start sharing our numbers with Facebook."];
  for (const text of offline) {
    const sent = await alice.send(bob.accountId, text);
    result.said.push(text);
    print(`   alice types    "${text}"`);
    await showStored(sent.envelopeId);
  }

  print(`\n${bold("3. Bob comes online:")} the backlog arrives, is decrypted on his phone, then acknowledged.`);
  await bob.connect();
  for (const message of await bob.take(offline.length)) {
    result.decrypted.push(message.text);
    print(`   bob decrypts   "${message.text}"  ${dim(`(envelope #${message.envelopeId}, ${typeName(message.type)})`)}`);
  }
  await bob.close();
  await bob.connect();
  const [queue] = await sql<{ left: number }[]>`
    select count(*)::int as left from envelopes where recipient_account_id = ${bob.accountId} and type <> 5`;
  const left = queue?.left ?? 0;
  result.queueLeftForBob = left;
  print(`   queue for Bob now holds ${left} messages (store-and-forward: nothing stays after delivery)`);

  print(`\n${bold("4. Both online:")} a live exchange. Messages still travel only as ciphertext.`);
  await alice.connect();
  const live: [HandshakeDevice, HandshakeDevice, string][] = [
    [bob, alice, "Yes. Messages stay end-to-end encrypted though."],
    [alice, bob, "Only the account data is shared. I'm leaving the box ticked."],
    [bob, alice, "I'm unticking it: nothing of mine for Facebook's ads."],
  ];
  for (const [from, to, text] of live) {
    const name = from === alice ? "alice" : "bob";
    const other = to === alice ? "alice" : "bob";
    const sent = await from.send(to.accountId, text);
    const [received] = await to.take(1);
    result.said.push(text);
    result.decrypted.push(received?.text ?? "");
    result.ciphertexts.push(sent.ciphertext);
    result.sentBy[name] = sent.ciphertext;
    print(`   ${name.padEnd(5)} types    "${text}"`);
    print(
      `     ${cyan("server relayed")} ${typeName(sent.type)}, ${Buffer.from(sent.ciphertext, "base64").length} bytes: ${dim(Buffer.from(sent.ciphertext, "base64").toString("hex").slice(0, 64) + "…")}`,
    );
    print(`   ${other.padEnd(5)} decrypts "${received?.text}"`);
  }

  const receipts: string[] = [];
  const iterator = alice.receipts()[Symbol.asyncIterator]();
  while (receipts.length < offline.length + 1) {
    const next = await iterator.next();
    if (next.done) break;
    receipts.push(next.value.messageId);
  }
  result.receipts = receipts.length;
  print(`\n${bold("5. Delivery receipts:")} Alice's phone got ${receipts.length} receipts from the server (no content, just "delivered").`);

  await Promise.all([alice.close(), bob.close()]);
  return result;
}
