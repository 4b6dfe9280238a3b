/**
 * The transactional topics a business may send under, as announced (receipts,
 * orders, delivery, reservations, appointments, flight status, bank and fraud
 * alerts). This mirrors `TRANSACTIONAL_TOPICS` in packages/consent, which k6
 * cannot import (it pulls zod); `business-topics.test.ts` keeps the two equal.
 */
export const BUSINESS_TOPICS = [
  "receipt",
  "order",
  "delivery",
  "reservation",
  "appointment",
  "flight-status",
  "bank-alert",
  "fraud-alert",
] as const;
