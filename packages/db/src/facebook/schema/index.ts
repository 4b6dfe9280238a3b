/** The Facebook-side service's database schema (its own database). Opens no connection. */
export * from "./profiles";
export * from "./shared";
export * from "./advertising";
export * from "./service";
