/**
 * The dashboard's pages: one entry each, in navigation order. `App` turns this
 * table into wouter routes and the header's links, so a new page is one line here.
 */
import type { ComponentType } from "react";
import { AccountsPage } from "./pages/Accounts";
import { AdvertiserPage } from "./pages/Advertiser";
import { GainsPage } from "./pages/Gains";
import { OverviewPage } from "./pages/Overview";
import { ReportsPage } from "./pages/Reports";
import { RolloutPage } from "./pages/Rollout";

export interface DashboardPage {
  path: string;
  label: string;
  component: ComponentType;
}

export const PAGES: readonly DashboardPage[] = [
  { path: "/", label: "Overview", component: OverviewPage },
  { path: "/accounts", label: "Two sides of one account", component: AccountsPage },
  { path: "/rollout", label: "Rollout", component: RolloutPage },
  { path: "/advertiser", label: "Advertiser view", component: AdvertiserPage },
  { path: "/gains", label: "Facebook's gains", component: GainsPage },
  { path: "/reports", label: "Load reports", component: ReportsPage },
];
