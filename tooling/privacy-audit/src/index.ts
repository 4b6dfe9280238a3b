/** The privacy audit as a library: `runPrivacyAudit` and the shape of its report. */
export { runPrivacyAudit, type AuditOptions, type AuditProgress, type AuditReport } from "./audit";
export { CHECK_IDS, CHECK_TITLES, type Breach, type CheckId, type CheckResult } from "./report";
export { scanAdvertiserResponse, COUNT_KEY_WORDS, type Finding, type KnownIdentifiers } from "./advertiser-response";
export { formatReport } from "./format";
