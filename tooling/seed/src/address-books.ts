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
import { type PopulationSpec, contactsOf, draw, keyFor, keyOf, nameOf, unit, userCoreAt } from "@handshake/population";

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

// Keys of the two draws; population's own hashing, so a draw depends only on
// (seed, purpose, ids), like every other derived fact of the world.
const uploadKey = (seed: number) => keyFor(seed, "seed/address-book-upload");
const keepKey = (seed: number) => keyFor(seed, "seed/address-book-keep");

/**
 * Whether WhatsApp user i's Facebook profile uploaded an address book (meaningful
 * only for users who have a profile).
 */
export function uploadsAddressBook(spec: PopulationSpec, i: number, options: AddressBookOptions): boolean {
  return unit(draw(keyOf(uploadKey(spec.seed), i), 0)) < options.share;
}

/**
 * The address book of WhatsApp user i, whether or not it was uploaded: the phones
 * of i's contacts, all of them up to `max`, else the `max` contacts with the
 * smallest seeded draw (an unbiased, deterministic subset). Sorted, distinct.
 */
export function addressBookOf(spec: PopulationSpec, i: number, options: AddressBookOptions): string[] {
  return [...new Set(keptContacts(spec, i, options).map((c) => userCoreAt(spec, c).phone))].sort();
}

/** One address-book entry: a number and the name the owner saved it under. */
export interface AddressBookEntry {
  phone: string;
  name: string;
}

/**
 * `addressBookOf` with the name each number is saved under: the contact's own name
 * (an assumption: real books hold nicknames and typos too, which would only lower
 * how many numbers link by name). Same numbers, same order.
 */
export function addressBookEntriesOf(spec: PopulationSpec, i: number, options: AddressBookOptions): AddressBookEntry[] {
  const byPhone = new Map<string, string>();
  for (const c of keptContacts(spec, i, options)) byPhone.set(userCoreAt(spec, c).phone, nameOf(spec, c));
  return [...byPhone].map(([phone, name]) => ({ phone, name })).sort((a, b) => (a.phone < b.phone ? -1 : a.phone > b.phone ? 1 : 0));
}

function keptContacts(spec: PopulationSpec, i: number, options: AddressBookOptions): number[] {
  let contacts = contactsOf(spec, i);
  if (contacts.length > options.max) {
    const owner = keyOf(keepKey(spec.seed), i);
    const keyed = contacts.map((c) => ({ c, k: keyOf(owner, c) }));
    keyed.sort((x, y) => x.k - y.k || x.c - y.c);
    contacts = keyed
      .slice(0, options.max)
      .map((x) => x.c)
      .sort((a, b) => a - b);
  }
  return contacts;
}
