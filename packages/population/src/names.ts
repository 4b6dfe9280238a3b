import { allFakers } from "@faker-js/faker";
import { keyFor } from "./hash";

/** Entries per table: 256 first names x 256 last names per sex and locale. */
const SIZE = 256;

/**
 * Name tables drawn once from a seeded faker instance of the locale, then indexed by
 * a per-person hash: O(1) per person instead of re-seeding faker (whose Mersenne
 * Twister re-initialisation costs microseconds) for every user.
 */
export interface NameTable {
  /** [female, male] first names. */
  first: readonly [readonly string[], readonly string[]];
  /** [female, male] last names (some locales inflect them by sex). */
  last: readonly [readonly string[], readonly string[]];
}

const cache = new Map<string, NameTable>();

/** The name table of a faker locale under a seed (built on first use, then cached). */
export function nameTable(locale: string, seed: number): NameTable {
  const id = `${locale}:${seed}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const faker = allFakers[locale as keyof typeof allFakers];
  if (!faker) throw new RangeError(`unknown faker locale ${locale}`);
  faker.seed(keyFor(seed, `names:${locale}`));
  const list = (f: () => string): string[] => Array.from({ length: SIZE }, f);
  const table: NameTable = {
    first: [list(() => faker.person.firstName("female")), list(() => faker.person.firstName("male"))],
    last: [list(() => faker.person.lastName("female")), list(() => faker.person.lastName("male"))],
  };
  cache.set(id, table);
  return table;
}

/** A full name from a table and 32 random bits (bit 31 picks the sex). */
export function nameFrom(table: NameTable, bits: number): string {
  const sex = bits >>> 31;
  return `${table.first[sex]![bits & 0xff]!} ${table.last[sex]![(bits >>> 8) & 0xff]!}`;
}
