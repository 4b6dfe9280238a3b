/**
 * The dashboard on a fresh stack started as `pnpm dev` starts it: embedded
 * PostgreSQL (a throwaway data directory), the messenger, the Facebook side, the
 * world seeded before the dashboard, the dashboard's Vite server and the simulator,
 * all as child processes through `startStack` — then nothing is touched:
 *
 * - within a minute of the stack being up, the overview shows envelopes being
 *   stored at a rate above zero and the rollout chart has points;
 * - with the clock moved past 2016-09-27 (Hamburg's order), Facebook holds nothing
 *   of any German account, read from its API and its database — after it was seen
 *   holding German accounts' data before the order, and while it still holds others'.
 *
 * Headless Debian Chromium through playwright-core; screenshots to .artifacts/screenshots/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTRPCClient, httpLink } from "@trpc/client";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient } from "@handshake/db/client";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";
import { seedWorldOnce } from "@handshake/simulator";
import { startStack, type RunningStack } from "@handshake/stack";
import { webRoot } from "../server/config";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(webRoot, "../../.artifacts/screenshots");
const MINUTE = 60_000;

let stack: RunningStack;
let dataDir: string;
let browser: Browser;
let page: Page;
let upAt = 0;
let messengerSql: ReturnType<typeof rawClient>;
let facebookSql: ReturnType<typeof rawClient>;
const tail: string[] = [];

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}\nlast service lines:\n${tail.slice(-15).join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's Chromium. Install it with: apt-get install chromium`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), "handshake-live-stack-"));
  // Ports 4100.. + an offset of its own, so it runs beside a `pnpm dev` (and other runs of it);
  // every port stays below Linux's ephemeral range (32768..), where any outgoing socket may hold it.
  const portOffset = 20_000 + Math.floor(Math.random() * 700) * 10;
  stack = await startStack({
    dataDir,
    portOffset,
    env: { LOG_LEVEL: "warn" },
    include: ["simulator"],
    // As `pnpm dev` does: the world is seeded once both services migrated, before the dashboard.
    beforeStart: async (service, info) => {
      if (service !== "web") return;
      await seedWorldOnce({
        messengerDatabaseUrl: info.services.messenger!.databaseUrl!,
        facebookDatabaseUrl: info.services.facebook!.databaseUrl ?? null,
      });
    },
    onLine: (name, line) => {
      tail.push(`${name}: ${line.slice(0, 300)}`);
      if (tail.length > 200) tail.shift();
    },
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nlast service lines:\n${tail.slice(-20).join("\n")}`, { cause: error });
  });
  upAt = Date.now();
  messengerSql = rawClient(stack.info.services.messenger!.databaseUrl!, { max: 2 });
  facebookSql = rawClient(stack.info.services.facebook!.databaseUrl!, { max: 2 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 4 * MINUTE);

afterAll(async () => {
  await browser?.close();
  await messengerSql?.end({ timeout: 5 });
  await facebookSql?.end({ timeout: 5 });
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const germanIds = async () => (await messengerSql<{ id: string }[]>`select id from accounts where country = 'DE'`).map((r) => r.id);

/** Facebook's shared data about German accounts of the world. */
async function germanHoldings(): Promise<{ accounts: number; rows: number }> {
  const german = await germanIds();
  const [row] = await facebookSql<{ accounts: number; rows: number }[]>`
    select count(distinct whatsapp_account_id)::int as accounts, count(*)::int as rows
    from shared_data where whatsapp_account_id in (select jsonb_array_elements_text(${facebookSql.json(german)})::uuid)`;
  return row!;
}

describe("a fresh pnpm dev stack, untouched", () => {
  it("within a minute the overview shows messages flowing and the rollout chart has points", async () => {
    const web = stack.info.services.web!.baseUrl;
    await page.goto(`${web}/#token=${encodeURIComponent(stack.info.adminToken)}`);
    await expect.poll(() => page.locator("h1").textContent(), { timeout: 15_000 }).toBe("Overview");
    const left = () => Math.max(1_000, MINUTE - (Date.now() - upAt));
    const rate = page.getByTestId("overview-stored-rate");
    // A rate above zero: "0.0/s" is a quiet world, "measuring…" not yet two samples.
    await expect.poll(async () => /^(?!0\.0\/s)[\d.,]+\/s$/.test((await rate.textContent()) ?? ""), { timeout: left(), interval: 500 }).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, "live-overview.png"), fullPage: true });

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Rollout" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Rollout");
    const chart = page.getByTestId("rollout-chart");
    await expect.poll(async () => Number((await chart.getAttribute("data-points")) ?? "0"), { timeout: left(), interval: 500 }).toBeGreaterThan(0);
    expect(Date.now() - upAt).toBeLessThan(MINUTE + 5_000);
    await page.screenshot({ path: path.join(SCREENSHOTS, "live-rollout.png"), fullPage: true });
  }, 2 * MINUTE);

  it("with the clock past 2016-09-27, German accounts hold nothing on the Facebook side (others still do)", async () => {
    const headers = { "x-admin-token": stack.info.adminToken };
    const messenger = createTRPCClient<MessengerRouter>({ links: [httpLink({ url: `${stack.info.services.messenger!.baseUrl}/trpc`, headers })] });
    const facebook = createTRPCClient<FacebookRouter>({ links: [httpLink({ url: `${stack.info.services.facebook!.baseUrl}/trpc`, headers })] });

    // Three weeks into the new terms most of the world has chosen; Germans share like everyone else.
    await messenger.admin.setClock.mutate({ at: "2016-09-20T00:00:00Z" });
    await until("Facebook to hold data of German accounts before the order", 3 * MINUTE, async () => (await germanHoldings()).accounts >= 3);
    const [germanAccount] = await facebookSql<{ id: string }[]>`
      select whatsapp_account_id as id from shared_data
      where whatsapp_account_id in (select jsonb_array_elements_text(${facebookSql.json(await germanIds())})::uuid)
      limit 1`;
    expect((await facebook.accounts.view.query({ whatsappAccountId: germanAccount!.id })).fields.length).toBeGreaterThan(0);

    await messenger.admin.setClock.mutate({ at: "2016-09-27T06:00:00Z" });
    await until("Facebook to hold nothing of German accounts after the order", MINUTE, async () => (await germanHoldings()).rows === 0);
    const view = await facebook.accounts.view.query({ whatsappAccountId: germanAccount!.id });
    expect(view.fields).toEqual([]);
    expect(view.link).toBeNull();
    // Others still share (how many depends on how far the world's consent calls got: at least the 3 Germans' worth).
    const [others] = await facebookSql<{ n: number }[]>`select count(distinct whatsapp_account_id)::int as n from shared_data`;
    expect(others!.n).toBeGreaterThan(3);
    // And it stays so as the simulated world goes on (late acceptances by Germans share nothing).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await germanHoldings()).rows).toBe(0);
  }, 6 * MINUTE);
});
