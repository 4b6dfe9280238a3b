/**
 * Rough per-operation costs, for sizing the key directory and simulated clients:
 * `pnpm --filter @handshake/crypto bench`.
 */
import { bundleFromUpload } from "../test/bundles";
import { SignalDevice } from "../src/device";
import { verifyPreKeyUpload } from "../src/verify";

async function time(label: string, runs: number, op: () => unknown): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await op();
  console.log(`${label.padEnd(48)} ${((performance.now() - start) / runs).toFixed(3)} ms`);
}

const ALICE = { accountId: "alice", deviceId: 1 };
const BOB = { accountId: "bob", deviceId: 1 };
const small = await (await SignalDevice.create()).generatePreKeys({ oneTimeCount: 100 });
const full = await (await SignalDevice.create()).generatePreKeys({ oneTimeCount: 100, oneTimeKyberCount: 100 });

await time("verifyPreKeyUpload, 100 EC one-time", 200, () => verifyPreKeyUpload(small));
await time("verifyPreKeyUpload, 100 EC + 100 Kyber one-time", 50, () => verifyPreKeyUpload(full));
const generator = await SignalDevice.create();
await time("generatePreKeys({ oneTimeCount: 100 })", 20, () => generator.generatePreKeys({ oneTimeCount: 100 }));

const alice = await SignalDevice.create({ address: ALICE });
const bob = await SignalDevice.create({ address: BOB });
const upload = await bob.generatePreKeys({ oneTimeCount: 100 });
await time("startSession", 100, () => alice.startSession(BOB, bundleFromUpload(upload, BOB)));
const message = new TextEncoder().encode("x".repeat(100));
await bob.decrypt(ALICE, await alice.encrypt(BOB, message));
await alice.decrypt(BOB, await bob.encrypt(ALICE, message));
await time("encrypt + decrypt 100 bytes, established session", 1000, async () =>
  bob.decrypt(ALICE, await alice.encrypt(BOB, message)),
);
await time("export + import a device with one session", 100, async () => SignalDevice.import(await alice.export()));
