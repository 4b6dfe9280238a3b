/** The messenger's database schema. Importing this opens no connection. */
export * from "./accounts";
export * from "./keys";
export * from "./envelopes";
export * from "./consent";
export * from "./sharing";
export * from "./tallies";
export * from "./limits";
export * from "./verification";
export * from "./business";
