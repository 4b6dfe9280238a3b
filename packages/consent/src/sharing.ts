import { POLICIES } from "./policy";
import { isChoicePurpose, type Purpose } from "./purposes";
import { regimeFor, type RegimeInput } from "./regimes";
import type { ConsentState, ShareChoice } from "./state";

/**
 * The share choice in effect at `at`, or null when the account had not accepted terms
 * that share with Facebook by then. The state holds enough history for past instants:
 * the only change after acceptance is a settings opt-out, before which the account shared.
 */
export function shareChoiceAt(account: ConsentState, at: Date): Pick<ShareChoice, "shareWithFacebook" | "method"> | null {
  const { terms, share } = account;
  if (terms === null || share === null || !POLICIES[terms.version].sharesWithFacebook) return null;
  const t = at.getTime();
  if (Number.isNaN(t) || t < terms.acceptedAt.getTime()) return null;
  if (share.method === "settings-within-window" && t < share.madeAt.getTime()) {
    // Before opting out in Settings the account shared under the pre-ticked box.
    return { shareWithFacebook: true, method: "default-ticked" };
  }
  return { shareWithFacebook: share.shareWithFacebook, method: share.method };
}

/**
 * May this account's data be shared with Facebook, and used, for `purpose` at `at`
 * under `regime` (composed by the account's country, and for dated specs such as
 * `historical-2016` the regime in force at `at`)?
 *
 * Nothing is shared before the account accepts the 2016 terms. Then, by regime:
 * `none` and `de-ban-2016` share nothing; `eu-pause-2016` shares everything but `ads` and
 * `product`; `optout-2016` shares `ads`/`product` unless the user chose not to;
 * `optin` shares `ads`/`product` only after an explicit yes on an unticked box.
 */
export function mayShare(account: ConsentState, purpose: Purpose, at: Date, regime: RegimeInput): boolean {
  const choice = shareChoiceAt(account, at);
  if (choice === null) return false;
  switch (regimeFor(regime, account.country, at)) {
    case "none":
    case "de-ban-2016":
      return false;
    case "eu-pause-2016":
      return !isChoicePurpose(purpose);
    case "optout-2016":
      return !isChoicePurpose(purpose) || choice.shareWithFacebook;
    case "optin":
      return !isChoicePurpose(purpose) || (choice.shareWithFacebook && choice.method === "ticked-at-acceptance");
  }
}
