/**
 * `pnpm demo`: the stack told end to end. Uses the running `pnpm dev` stack when
 * there is one; otherwise starts its own messenger and Facebook side on an embedded
 * PostgreSQL under .data/demo-postgres. Each chapter is its own module: the
 * conversation, then the handshake (what reached Facebook, and what it made of it).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { rawClient } from "@handshake/db/client";
import { ensureDatabase } from "@handshake/db/embedded";
import { resolveDatabase } from "@handshake/db/resolve";
import { createFacebookServer } from "@handshake/facebook/server";
import { createLogger } from "@handshake/messenger/log";
import { createMessengerServer } from "@handshake/messenger/server";
import { findRunningStack, repoRoot } from "@handshake/stack";
import { converse } from "./conversation";
import { handshake } from "./handshake";
import { dim } from "./terminal";

interface DemoStack {
  messengerUrl: string;
  facebookUrl: string;
  messengerDatabaseUrl: string;
  adminToken: string;
  stop(): Promise<void>;
}

async function connectToStack(): Promise<DemoStack> {
  const running = await findRunningStack();
  const messenger = running?.services.messenger;
  const facebook = running?.services.facebook;
  if (running && messenger?.databaseUrl && facebook) {
    console.log(dim(`Using the running stack (pid ${running.pid}): ${messenger.baseUrl}, ${facebook.baseUrl}`));
    return {
      messengerUrl: `${messenger.baseUrl}/trpc`,
      facebookUrl: `${facebook.baseUrl}/trpc`,
      messengerDatabaseUrl: messenger.databaseUrl,
      adminToken: running.adminToken,
      stop: async () => {},
    };
  }
  console.log(dim("No running stack found; starting a messenger and a Facebook side on embedded PostgreSQL (.data/demo-postgres)…"));
  const database = await resolveDatabase({ database: "handshake_demo", dataDir: path.join(repoRoot, ".data", "demo-postgres") });
  const facebookDatabaseUrl = await ensureDatabase(database.embedded?.url ?? database.url, "handshake_demo_facebook");
  const adminToken = randomBytes(18).toString("base64url");
  const serviceToken = randomBytes(24).toString("base64url");
  const facebookServer = await createFacebookServer({
    databaseUrl: facebookDatabaseUrl,
    logger: createLogger({ level: "warn" }),
    adminToken,
    serviceToken,
  });
  const { url: facebookUrl } = await facebookServer.listen(0);
  const messengerServer = await createMessengerServer({
    databaseUrl: database.url,
    logger: createLogger({ level: "warn" }),
    adminToken,
    serviceToken,
    facebookUrl,
  });
  const { url: messengerUrl } = await messengerServer.listen(0);
  return {
    messengerUrl,
    facebookUrl,
    messengerDatabaseUrl: database.url,
    adminToken,
    stop: async () => {
      await messengerServer.close();
      await facebookServer.close();
      await database.embedded?.stop();
    },
  };
}

const stack = await connectToStack();
const sql = rawClient(stack.messengerDatabaseUrl, { max: 1, applicationName: "demo" });
try {
  const talk = await converse({ url: stack.messengerUrl, sql, print: console.log });
  await handshake({
    messengerUrl: stack.messengerUrl,
    facebookUrl: stack.facebookUrl,
    adminToken: stack.adminToken,
    alice: talk.alice,
    bob: talk.bob,
    ciphertexts: talk.sentBy,
    print: console.log,
  });
} finally {
  await sql.end();
  await stack.stop();
}
console.log(
  dim("\nDone. The messenger relayed only ciphertext; Facebook got Alice's account data for the purposes her ticked box allowed, and of Bob's only what the terms share regardless of the box."),
);
