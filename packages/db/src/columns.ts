import { customType } from "drizzle-orm/pg-core";

/** PostgreSQL `bytea` as a Node Buffer (drizzle has no built-in bytea column). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});

/**
 * PostgreSQL `jsonb`, handed to postgres.js as the value itself. The service's one pool
 * keeps postgres.js's own json serializer (raw SQL relies on it), which stringifies;
 * drizzle's built-in `jsonb` stringifies first, so it would store a JSON string.
 */
export const jsonb = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => "jsonb",
});
