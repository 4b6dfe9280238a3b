import { customType } from "drizzle-orm/pg-core";

/** PostgreSQL `bytea` as a Node Buffer (drizzle has no built-in bytea column). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});
