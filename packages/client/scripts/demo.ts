/**
 * `pnpm demo`: two simulated phones converse through the messenger. For every
 * message it prints what the sender typed, what the server stored (ciphertext
 * only) and what the recipient decrypted.
 *
 * Uses the running `pnpm dev` stack when there is one; otherwise starts its own
 * messenger on an embedded PostgreSQL under .data/demo-postgres.
 */
import path from "node:path";
import { rawClient } from "@handshake/db/client";
import { resolveDatabase } from "@handshake/db/resolve";
import { createMessengerServer } from "@handshake/messenger/server";
import { createLogger } from "@handshake/messenger/log";
import { findRunningStack, repoRoot } from "@handshake/stack";
import { HandshakeDevice } from "../src/index";

const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const cyan = (s: string) => `\x1b[36m${s}\x1b[0m`;
const typeName = (type: number) => (type === 3 ? "PreKey message" : type === 1 ? "Signal message" : `type ${type}`);

async function connectToMessenger() {
  const running = await findRunningStack();
  const messenger = running?.services.messenger;
  if (messenger?.databaseUrl) {
    console.log(dim(`Using the running stack (pid ${running?.pid}): ${messenger.baseUrl}`));
    return { url: `${messenger.baseUrl}/trpc`, databaseUrl: messenger.databaseUrl, stop: async () => {} };
  }
  console.log(dim("No running stack found; starting a messenger on embedded PostgreSQL (.data/demo-postgres)…"));
  const database = await resolveDatabase({
    database: "handshake_demo",
    dataDir: path.join(repoRoot, ".data", "demo-postgres"),
  });
  const server = await createMessengerServer({ databaseUrl: database.url, logger: createLogger({ level: "warn" }) });
  const { url } = await server.listen(0);
  return {
    url,
    databaseUrl: database.url,
    stop: async () => {
      await server.close();
      await database.embedded?.stop();
    },
  };
}

const messenger = await connectToMessenger();
const sql = rawClient(messenger.databaseUrl, { max: 1, applicationName: "demo" });

// Fresh random numbers each run, so the demo can run again on the same database.
const suffix = () => String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
const alice = await HandshakeDevice.register({
  url: messenger.url,
  phoneNumber: `+4915123${suffix()}`,
  device: { os: "android", osVersion: "6.0.1", model: "Samsung SM-G920F" },
});
const bob = await HandshakeDevice.register({
  url: messenger.url,
  phoneNumber: `+9198765${suffix().slice(0, 5)}`,
  device: { os: "ios", osVersion: "9.3.5", appVersion: "2.16.10", model: "iPhone 6s" },
});
console.log(`\n${bold("1. Two phones register")} and publish their prekeys (20 one-time keys each).`);
console.log(`   Alice ${alice.phoneNumber}  account ${dim(alice.accountId)}`);
console.log(`   Bob   ${bob.phoneNumber}  account ${dim(bob.accountId)}`);

async function showStored(envelopeId: string) {
  const [row] = await sql<{ type: number; content: Buffer; recipient_shard: number }[]>`
    select type, content, recipient_shard from envelopes where id = ${envelopeId}`;
  if (!row) {
    console.log(`     ${cyan("server holds")}   nothing: delivered, acknowledged and deleted`);
    return;
  }
  const hex = row.content.toString("hex");
  console.log(
    `     ${cyan("server holds")}   envelope #${envelopeId}, ${typeName(row.type)}, ${row.content.length} bytes, shard ${row.recipient_shard}: ${dim(hex.slice(0, 64) + "…")}`,
  );
}

console.log(`\n${bold("2. Bob is offline.")} Alice writes; the server can only store ciphertext for him.`);
const offline = ["Hi Bob! Did you see WhatsApp's new terms?", "They start sharing our numbers with Facebook."];
for (const text of offline) {
  const sent = await alice.send(bob.accountId, text);
  console.log(`   alice types    "${text}"`);
  await showStored(sent.envelopeId);
}

console.log(`\n${bold("3. Bob comes online:")} the backlog arrives, is decrypted on his phone, then acknowledged.`);
await bob.connect();
for (const message of await bob.take(offline.length)) {
  console.log(`   bob decrypts   "${message.text}"  ${dim(`(envelope #${message.envelopeId}, ${typeName(message.type)})`)}`);
}
await bob.close();
await bob.connect();
const [queue] = await sql<{ left: number }[]>`
  select count(*)::int as left from envelopes where recipient_account_id = ${bob.accountId} and type <> 5`;
const left = queue?.left ?? 0;
console.log(`   queue for Bob now holds ${left} messages (store-and-forward: nothing stays after delivery)`);

console.log(`\n${bold("4. Both online:")} a live exchange. Messages still travel only as ciphertext.`);
await alice.connect();
const live: [HandshakeDevice, HandshakeDevice, string][] = [
  [bob, alice, "Yes. Messages stay end-to-end encrypted though."],
  [alice, bob, "Only the account data is shared. I'm unticking the box."],
  [bob, alice, "You have 30 days to change it in Settings > Account."],
];
for (const [from, to, text] of live) {
  const name = from === alice ? "alice" : "bob";
  const other = to === alice ? "alice" : "bob";
  const sent = await from.send(to.accountId, text);
  const [received] = await to.take(1);
  console.log(`   ${name.padEnd(5)} types    "${text}"`);
  console.log(
    `     ${cyan("server relayed")} ${typeName(sent.type)}, ${Buffer.from(sent.ciphertext, "base64").length} bytes: ${dim(Buffer.from(sent.ciphertext, "base64").toString("hex").slice(0, 64) + "…")}`,
  );
  console.log(`   ${other.padEnd(5)} decrypts "${received?.text}"`);
}

const receipts: string[] = [];
const iterator = alice.receipts()[Symbol.asyncIterator]();
while (receipts.length < offline.length + 1) {
  const next = await iterator.next();
  if (next.done) break;
  receipts.push(next.value.messageId);
}
console.log(`\n${bold("5. Delivery receipts:")} Alice's phone got ${receipts.length} receipts from the server (no content, just "delivered").`);

await Promise.all([alice.close(), bob.close()]);
await sql.end();
await messenger.stop();
console.log(dim("\nDone. The server saw phone numbers, device models and ciphertext sizes — never a word of the conversation."));
