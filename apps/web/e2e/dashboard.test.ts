/**
 * The dashboard in a real browser against real services: the messenger and the
 * Facebook side (in-process, on the run's PostgreSQL, shipping share events to
 * each other), a seeded population sample, and the dashboard's Vite dev server,
 * driven by headless Debian Chromium through playwright-core.
 *
 * Proves: the overview shows the seeded numbers and follows them live over the
 * messenger's WebSocket (dashboard.live, no overview request); advancing the
 * simulation clock changes the rollout chart, whose y axis reads in whole distinct
 * steps even when empty and whose points show a tooltip on hover; the two-sides view
 * of an opted-out account shows no ads use (and a regime switch takes it away from an
 * account that shared); header links navigate without a reload; every page has one
 * h1, labelled inputs and a nav reachable by Tab; no console errors.
 * Screenshots of each page go to .artifacts/screenshots/.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTRPCClient, httpLink } from "@trpc/client";
import { chromium, type Browser, type Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EU_MEMBER_STATES_2016 } from "@handshake/consent";
import { freePort } from "@handshake/db/embedded";
import type { AppRouter as FacebookRouter } from "@handshake/facebook";
import { startTestFacebook, type TestFacebook } from "@handshake/facebook/testing";
import type { AppRouter as MessengerRouter } from "@handshake/messenger";
import { startTestMessenger, TEST_ADMIN_TOKEN, TEST_SERVICE_TOKEN, type TestMessenger } from "@handshake/messenger/testing";
import { createSpec, shardRange, userAt } from "@handshake/population";
import { sampleIdentity, seedSample } from "@handshake/seed";
import { dashboardConfig, webRoot } from "../server/config";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(webRoot, "../../.artifacts/screenshots");
const spec = createSpec({ size: 1_000_000, shardCount: 1000, seed: 11 });
const SHARD = 42;
const SIM_START = new Date("2016-08-20T08:00:00Z");
const ANNOUNCED = new Date("2016-08-25T00:00:00Z");

let messenger: TestMessenger;
let facebook: TestFacebook;
let vite: ViteDevServer;
let browser: Browser;
let page: Page;
let webUrl: string;
let reportsDir: string;
let seededUsers: number;
const consoleErrors: string[] = [];
const sockets: string[] = [];
const requests: string[] = [];
const identity = sampleIdentity(spec);

const messengerAs = (headers: Record<string, string>) =>
  createTRPCClient<MessengerRouter>({ links: [httpLink({ url: `${messenger.url}`, headers })] });
let admin: ReturnType<typeof messengerAs>;
let facebookAdmin: ReturnType<typeof createTRPCClient<FacebookRouter>>;

/** Population ids in the sampled shard, registered before the simulation starts, outside the EU. */
function existingUsers(count: number): number[] {
  const { start, end } = shardRange(spec, SHARD);
  const out: number[] = [];
  for (let i = start; i < end && out.length < count; i++) {
    const user = userAt(spec, i);
    if (user.registeredAt < SIM_START.getTime() && !EU_MEMBER_STATES_2016.includes(user.country)) out.push(i);
  }
  return out;
}

const device = (i: number) => messengerAs({ authorization: `Bearer ${identity.credential(i)}` });

/** Polls `check` until it returns true (services work asynchronously), failing after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function screenshot(name: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** One h1, every form control labelled, and Tab from the top reaches the navigation. */
async function expectAccessible() {
  expect(await page.locator("h1").count()).toBe(1);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => (el as HTMLInputElement).type !== "hidden")
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        return !(labels && labels.length > 0) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby");
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unlabelled).toEqual([]);
  // From a fresh load, as a keyboard user arrives (a click moves where Tab starts from).
  const heading = await page.locator("h1").textContent();
  await page.reload();
  await expect.poll(() => page.locator("h1").textContent()).toBe(heading);
  let inNav = false;
  for (let presses = 0; presses < 4 && !inNav; presses++) {
    await page.keyboard.press("Tab");
    inNav = await page.evaluate(() => Boolean(document.activeElement?.closest("nav")));
  }
  expect(inNav).toBe(true);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's Chromium. Install it with: apt-get install chromium`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  const facebookPort = await freePort();
  messenger = await startTestMessenger({ simStart: SIM_START, rateLimits: false, facebookUrl: `http://127.0.0.1:${facebookPort}/trpc` });
  facebook = await startTestFacebook({
    port: facebookPort,
    adminToken: TEST_ADMIN_TOKEN,
    serviceToken: TEST_SERVICE_TOKEN,
    messengerUrl: messenger.url,
    clock: messenger.server.services.clock,
  });
  admin = messengerAs({ "x-admin-token": TEST_ADMIN_TOKEN });
  facebookAdmin = createTRPCClient<FacebookRouter>({ links: [httpLink({ url: facebook.url, headers: { "x-admin-token": TEST_ADMIN_TOKEN } })] });

  const seeded = await seedSample({ spec, shards: [SHARD], databaseUrl: messenger.databaseUrl, fixturesDir: null, prekeys: 2, outside: 30 });
  seededUsers = seeded.users - seeded.skipped;

  // One load report, as `pnpm loadtest run` would leave it.
  reportsDir = await mkdtemp(path.join(tmpdir(), "handshake-reports-"));
  await mkdir(path.join(reportsDir, "2016-12-31T23-59-59-000Z-steady"));
  await writeFile(
    path.join(reportsDir, "2016-12-31T23-59-59-000Z-steady", "report.html"),
    "<!doctype html><html lang=en><title>steady</title><h1>steady: 4 shards</h1><p>p99 delivery 42 ms</p></html>",
  );
  await writeFile(path.join(reportsDir, "2016-12-31T23-59-59-000Z-steady", "summary.json"), "{}");

  const webPort = await freePort();
  vite = await createServer(
    dashboardConfig({
      port: webPort,
      host: "127.0.0.1",
      messengerPort: Number(new URL(messenger.url).port),
      facebookPort,
      reportsDir,
    }),
  );
  await vite.listen();
  webUrl = `http://127.0.0.1:${webPort}`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  page.on("websocket", (socket) => sockets.push(socket.url()));
  page.on("request", (request) => requests.push(request.url()));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await vite?.close();
  await facebook?.close();
  await messenger?.close();
  if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
});

describe("the dashboard in Chromium", () => {
  it("asks for the admin token when there is none", async () => {
    await page.goto(`${webUrl}/`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Admin token needed");
    expect(await page.getByText("pnpm dev").count()).toBeGreaterThan(0);
    await expectAccessible();
  });

  it("shows the seeded sample on the overview", async () => {
    await page.goto(`${webUrl}/#token=${TEST_ADMIN_TOKEN}`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Overview");
    // The token moved from the address bar into sessionStorage.
    expect(page.url()).toBe(`${webUrl}/`);
    const accounts = page.getByTestId("overview-accounts");
    await expect.poll(() => accounts.textContent(), { timeout: 10_000 }).toBe(seededUsers.toLocaleString("en-US"));
    expect(seededUsers).toBeGreaterThan(1000);
    await expect.poll(() => page.getByTestId("stack-facebook").textContent()).toBe("up");
    const countries = await page.getByTestId("overview-countries").locator("tr").count();
    expect(countries).toBeGreaterThan(0);
    // A second sample gives a live rate instead of "measuring…".
    await expect.poll(() => page.getByTestId("overview-stored-rate").textContent(), { timeout: 10_000 }).toMatch(/\/s$/);
    // The messenger's figures arrive over its WebSocket (dashboard.live), not by polling
    // dashboard.overview: a new account shows up without a request for it.
    expect(sockets.filter((url) => new URL(url).pathname === "/api/messenger/trpc")).toHaveLength(1);
    await messenger.server.services.sql`
      insert into accounts (phone_number, country, shard, kind, created_at) values ('+919810099999', 'IN', 1, 'personal', ${SIM_START})`;
    await expect.poll(() => accounts.textContent(), { timeout: 10_000 }).toBe((seededUsers + 1).toLocaleString("en-US"));
    expect(requests.filter((url) => url.includes("dashboard.overview") && url.includes("/api/messenger/"))).toEqual([]);
    await screenshot("overview");
    await expectAccessible();
  });

  it("draws the rollout, and the chart changes when the simulation clock advances", async () => {
    // Before the new terms the chart is empty, and its y axis still reads in whole, distinct steps.
    await page.goto(`${webUrl}/rollout`);
    await expect.poll(() => page.getByTestId("rollout-days").textContent(), { timeout: 10_000 }).toMatch(/^0 of 31 days/);
    const yTicks = () => page.getByTestId("rollout-chart").locator('g[aria-label="y-axis tick label"] text').allTextContents();
    await expect.poll(yTicks).toEqual(["0", "1"]);

    const users = existingUsers(20);
    await admin.admin.setClock.mutate({ at: new Date(ANNOUNCED.getTime() + 3_600_000).toISOString() });
    for (const [k, i] of users.entries()) {
      await device(i).terms.accept.mutate({ version: "2016-08-25", shareWithFacebook: k % 4 !== 1 });
    }
    await page.goto(`${webUrl}/rollout`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Rollout");
    const days = page.getByTestId("rollout-days");
    await expect.poll(() => days.textContent(), { timeout: 10_000 }).toMatch(/^1 of 31 days so far — 20 of/);
    const chart = page.getByTestId("rollout-chart");
    const before = Number(await chart.getAttribute("data-points"));
    expect(before).toBe(4);
    // The regulators' dates of historical-2016 are marked: the new terms, Hamburg, the ICO and the EU pause.
    expect(await chart.getAttribute("data-events")).toBe("4");
    expect(await yTicks()).toEqual(["0", "5", "10", "15", "20"]);
    // Hovering a point shows its tooltip: the series, the day and the value.
    await chart.locator('g[aria-label="dot"] circle').first().hover();
    const tip = chart.locator('g[aria-label="tip"]');
    await expect.poll(() => tip.textContent()).toContain("Accepted the 2016 terms");
    expect(await tip.textContent()).toContain("08-25: 20");

    // Two days later, a few opt out in Settings; the chart gains the days.
    await page.getByTestId("advance-day").click();
    await page.getByTestId("advance-day").click();
    for (const i of users.filter((_, k) => k % 4 === 2)) {
      await device(i).settings.setShareAccountInfo.mutate({ shareWithFacebook: false });
    }
    await expect.poll(() => days.textContent(), { timeout: 10_000 }).toMatch(/^3 of 31 days/);
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBe(12);
    await screenshot("rollout");
    await expectAccessible();
  });

  it("shows both sides of an opted-out account: no ads use on the Facebook side", async () => {
    const users = existingUsers(20);
    const optedOut = users[1]!; // unticked the box at acceptance
    const sharing = users[0]!;
    const optedOutId = identity.accountId(optedOut);
    const sharingId = identity.accountId(sharing);
    // The share pipeline delivers asynchronously: wait until Facebook holds something for both.
    await until("Facebook to receive the shared data", async () => {
      const [a, b] = await Promise.all([
        facebookAdmin.accounts.view.query({ whatsappAccountId: optedOutId }),
        facebookAdmin.accounts.view.query({ whatsappAccountId: sharingId }),
      ]);
      return a.fields.length > 0 && b.fields.length > 0;
    });

    await page.goto(`${webUrl}/accounts?id=${optedOutId}`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Two sides of one account");
    const verdict = page.getByTestId("facebook-ads-use");
    await expect.poll(() => verdict.textContent(), { timeout: 10_000 }).toBe("Used for ads: no");
    const purposes = await page.getByTestId("facebook-fields").locator("tbody tr td:nth-child(3)").allTextContents();
    expect(purposes.length).toBeGreaterThan(0);
    for (const p of purposes) expect(p.split(", ")).not.toContain("ads");
    await expect.poll(() => page.getByTestId("consent-history").textContent()).toContain("box unticked");
    await expect.poll(() => page.getByTestId("messenger-purposes").textContent()).toContain("ads: no");
    await screenshot("two-sides-opted-out");
    await expectAccessible();

    // An account that shares is used for ads — until the regime changes.
    await page.goto(`${webUrl}/accounts?id=${sharingId}`);
    await expect.poll(() => verdict.textContent(), { timeout: 10_000 }).toBe("Used for ads: yes");
    // The account search is fetched once and not polled; the regime switch invalidates the
    // messenger's dashboard views, so it is fetched again right after (and only then).
    const searches = () => requests.filter((url) => url.includes("dashboard.findAccounts")).length;
    await expect.poll(searches).toBeGreaterThan(0);
    const searchesBefore = searches();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(searches()).toBe(searchesBefore);
    await page.getByLabel("Switch to").selectOption("eu-pause-2016");
    await page.getByRole("button", { name: "Apply regime" }).click();
    await expect.poll(() => page.getByTestId("regime-current").textContent(), { timeout: 10_000 }).toBe("eu-pause-2016");
    await expect.poll(searches).toBeGreaterThan(searchesBefore);
    await expect.poll(() => verdict.textContent(), { timeout: 15_000 }).toBe("Used for ads: no");
    await screenshot("two-sides-after-regime-switch");
  });

  it("shows an advertiser its audiences as size ranges only", async () => {
    const users = existingUsers(400).slice(0, 300);
    const phones = users.map((i) => userAt(spec, i).phone);
    await facebookAdmin.profiles.upsert.mutate({
      profiles: phones.map((phone, k) => ({ id: 9_000_000 + k, name: `Person ${k}`, country: "IN", phoneNumber: phone })),
    });
    const { credential } = await facebookAdmin.advertisers.create.mutate({ name: "Acme Sweets" });
    const advertiser = createTRPCClient<FacebookRouter>({ links: [httpLink({ url: facebook.url, headers: { authorization: `Bearer ${credential}` } })] });
    const sha = (phone: string) => createHash("sha256").update(phone.slice(1)).digest("hex");
    const loyal = await advertiser.audiences.create.mutate({ name: "Loyal customers" });
    await advertiser.audiences.upload.mutate({ audienceId: loyal.audienceId, hashes: phones.map(sha) });
    const tiny = await advertiser.audiences.create.mutate({ name: "One person" });
    await advertiser.audiences.upload.mutate({ audienceId: tiny.audienceId, hashes: [sha(phones[0]!)] });

    await page.goto(`${webUrl}/advertiser`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Advertiser view");
    const table = page.getByTestId("advertiser-audiences");
    await expect.poll(() => table.locator("tbody tr").count(), { timeout: 10_000 }).toBe(2);
    const text = (await table.textContent()) ?? "";
    expect(text).toMatch(/Loyal customers.*\d[\d,]*–[\d,]+ people/);
    expect(text).toContain("Too small to show");
    for (const phone of phones.slice(0, 20)) expect(text).not.toContain(phone.slice(3));
    await screenshot("advertiser");
    await expectAccessible();
  });

  it("shows what Facebook gained per regime, and the audience match rate with and without WhatsApp", async () => {
    await page.goto(`${webUrl}/gains`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("What Facebook gains");
    // The advertiser's upload above counts; the shared accounts above give at least one regime's row.
    await expect.poll(() => page.getByTestId("match-rate").textContent(), { timeout: 10_000 }).toMatch(/[\d,]+ rows uploaded: [\d.]+% matched/);
    const rows = page.getByTestId("gains-table").locator("tbody tr");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await rows.first().locator("th").textContent()).toMatch(/\S/);
    await screenshot("gains");
    await expectAccessible();
  });

  it("lists load reports and embeds one", async () => {
    // The header's links navigate in place (the router), without reloading the page.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Load reports" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Load reports");
    expect(page.url()).toBe(`${webUrl}/reports`);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.getByRole("link", { name: "Load reports" }).getAttribute("aria-current")).toBe("page");
    await expect.poll(() => page.getByTestId("reports-list").textContent()).toMatch(/^steady — 2016-12-31T23-59-59-000Z-steady/);
    const frame = page.frameLocator('iframe[title^="Load report"]');
    await expect.poll(() => frame.locator("h1").textContent(), { timeout: 10_000 }).toBe("steady: 4 shards");
    expect((await page.request.get(`${webUrl}/reports/..%2F..%2Fpackage.json/report.html`)).status()).toBe(404);
    await screenshot("reports");
    await expectAccessible();
  });

  it("logged no console error on any page", () => {
    expect(consoleErrors).toEqual([]);
  });
});
