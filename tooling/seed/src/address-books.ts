/**
 * Address books people uploaded to Facebook from their phones, derived from the
 * population so the Facebook side's friend suggestions are meaningful: the book of
 * WhatsApp user i's profile holds the phones of (some of) i's WhatsApp contacts
 * (`contactsOf`). Who uploads, and which contacts a capped book keeps, are seeded
 * draws on (seed, i): the same sample always yields the same books.
 *
 * Only profiles of WhatsApp users upload (people not on WhatsApp have no contacts
 * in the population), which also bounds the volume: ~0.7 × share × mean(min(degree,
 * max)) entries per user.
 */
import { type PopulationSpec, contactsOf, userCoreAt } from "@handshake/population";

export interface AddressBookOptions {
  /** Probability that a WhatsApp user's Facebook profile uploaded its address book. */
  share: number;
  /** Most entries per uploaded book. */
  max: number;
}

export const DEFAULT_ADDRESS_BOOKS: AddressBookOptions = {
  // assumption: no published figure for the share of Facebook users who had synced
  // their phone's contacts by 2016; 0.3 keeps the volume near 5 rows per user
  share: 0.3,
  // assumption: a cap for cost control, not a Facebook limit (books of heavy users
  // run to thousands of numbers)
  max: 50,
};

// Tags separating the draws (append only).
const T_UPLOADS = 0x0b00c;
const T_KEEP = 0x6ee9;

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit draw keyed by (seed, tag, a, b); a and b are population ids (< 2^32). */
function draw(seed: number, tag: number, a: number, b: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ (Math.floor(seed / 2 ** 32) >>> 0));
  h = fmix32(h ^ tag);
  h = fmix32(h ^ (a >>> 0));
  return fmix32(h ^ (b >>> 0));
}

/**
 * Whether WhatsApp user i's Facebook profile uploaded an address book (meaningful
 * only for users who have a profile).
 */
export function uploadsAddressBook(spec: PopulationSpec, i: number, options: AddressBookOptions): boolean {
  return draw(spec.seed, T_UPLOADS, i, 0) / 2 ** 32 < options.share;
}

/**
 * The address book of WhatsApp user i, whether or not it was uploaded: the phones
 * of i's contacts, all of them up to `max`, else the `max` contacts with the
 * smallest seeded draw (an unbiased, deterministic subset). Sorted, distinct.
 */
export function addressBookOf(spec: PopulationSpec, i: number, options: AddressBookOptions): string[] {
  let contacts = contactsOf(spec, i);
  if (contacts.length > options.max) {
    const keyed = contacts.map((c) => ({ c, k: draw(spec.seed, T_KEEP, i, c) }));
    keyed.sort((x, y) => x.k - y.k || x.c - y.c);
    contacts = keyed
      .slice(0, options.max)
      .map((x) => x.c)
      .sort((a, b) => a - b);
  }
  return [...new Set(contacts.map((c) => userCoreAt(spec, c).phone))].sort();
}
