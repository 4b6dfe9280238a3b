/**
 * `pnpm demo`: the stack told end to end. Uses the running `pnpm dev` stack when
 * there is one; otherwise starts its own messenger on an embedded PostgreSQL under
 * .data/demo-postgres. Each chapter is its own module (today: the conversation).
 */
import path from "node:path";
import { rawClient } from "@handshake/db/client";
import { resolveDatabase } from "@handshake/db/resolve";
import { createLogger } from "@handshake/messenger/log";
import { createMessengerServer } from "@handshake/messenger/server";
import { findRunningStack, repoRoot } from "@handshake/stack";
import { converse } from "./conversation";
import { dim } from "./terminal";

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
try {
  await converse({ url: messenger.url, sql, print: console.log });
} finally {
  await sql.end();
  await messenger.stop();
}
console.log(dim("\nDone. The server saw phone numbers, device models and ciphertext sizes — never a word of the conversation."));
