/**
 * The patched object spreads of @trpc/server (patches/README.md): the helper gives the
 * same result as the one tRPC ships, for what tRPC spreads (contexts, inputs,
 * responses) and for the corner cases a spread has (symbols, getters, non-enumerables,
 * an own `__proto__` key from JSON.parse, primitives, null); the per-call paths use
 * the language's own spread, whose semantics the helper imitates.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

/** tRPC 11.25.2's helper as it ships (oxc's objectSpread2), for comparison. */
function shipped(e: Record<PropertyKey, unknown>, ...rest: unknown[]) {
  const toPropertyKey = (k: PropertyKey) => (typeof k === "symbol" ? k : String(k));
  const define = (o: Record<PropertyKey, unknown>, k: PropertyKey, v: unknown) => {
    k = toPropertyKey(k);
    if (k in o) Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    else o[k] = v;
  };
  const ownKeys = (o: object, enumerableOnly: boolean) => {
    const keys: PropertyKey[] = Object.keys(o);
    let symbols: PropertyKey[] = Object.getOwnPropertySymbols(o);
    if (enumerableOnly) symbols = symbols.filter((s) => Object.getOwnPropertyDescriptor(o, s)!.enumerable);
    return [...keys, ...symbols];
  };
  const args = [e, ...rest];
  for (let r = 1; r < args.length; r++) {
    const t = (args[r] ?? {}) as Record<PropertyKey, unknown>;
    if (r % 2) for (const k of ownKeys(Object(t), true)) define(e, k, t[k as string]);
    else Object.defineProperties(e, Object.getOwnPropertyDescriptors(t));
  }
  return e;
}

const dist = path.join(path.dirname(createRequire(import.meta.url).resolve("@trpc/server/package.json")), "dist");
const loadPatched = async () => {
  const module = (await import(pathToFileURL(path.join(dist, "getErrorShape-B5jPKHJ3.mjs")).href)) as { n: typeof shipped };
  return module.n;
};

/** Own properties with their descriptors and the prototype: what "the same object" means here. */
const shape = (o: object) => ({ proto: Object.getPrototypeOf(o) as unknown, descriptors: Object.getOwnPropertyDescriptors(o) });

describe("@trpc/server's patched object spread", () => {
  it("is applied (ESM and CommonJS builds)", async () => {
    for (const file of ["getErrorShape-B5jPKHJ3.mjs", "getErrorShape-BAuHhNuh.cjs"]) {
      expect(await readFile(path.join(dist, file), "utf8")).toContain("Patched (patches/README.md)");
    }
  });

  it("spreads natively where every call passes: the middleware chain, input merging and response serialisation", async () => {
    for (const file of ["initTRPC-DPoVGUwX.mjs", "initTRPC-yeYwDikA.cjs"]) {
      const source = await readFile(path.join(dist, file), "utf8");
      expect(source).toMatch(/async function callRecursive[\s\S]*?middleware\(\(\{ \.\.\.opts,/);
      expect(source).toContain("({ ...opts.input, ...parsedInput })");
    }
    for (const file of ["asyncGeneratorDelegate-JWx0LJUD.mjs", "asyncGeneratorDelegate-CMdmcplC.cjs"]) {
      expect(await readFile(path.join(dist, file), "utf8")).toMatch(/function transformTRPCResponseItem[\s\S]*?return \(\{ \.\.\.item,/);
    }
  });

  it("gives the same object as the shipped helper for every case tRPC and spreads meet", async () => {
    const patched = await loadPatched();
    const tag = Symbol("tag");
    const hidden = Symbol("hidden");
    const withSymbols = { a: 1, [tag]: "t" };
    Object.defineProperty(withSymbols, hidden, { value: "h", enumerable: false });
    const withGetter = { get now() { return 42; } };
    const nonEnumerable = Object.defineProperty({ x: 1 }, "y", { value: 2, enumerable: false });
    const cases: unknown[][] = [
      [{ ctx: { a: 1 }, input: "x" }, {}, { ctx: { b: 2 }, input: undefined }],
      [{ type: "data", id: "7" }, {}, { data: { n: 1 } }],
      [JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')],
      [{ a: 1 }, JSON.parse('{"__proto__": {"polluted": true}}')],
      [withSymbols, {}, { b: 2 }],
      [withGetter],
      [{ a: 1 }, withGetter],
      [nonEnumerable, {}, { z: 3 }],
      [{ a: 1 }, nonEnumerable],
      [null, {}, undefined],
      ["ab", {}, { c: 1 }],
      [{ a: 1 }, { a: 2 }, { a: 3 }],
      [{ toString: "own" }, {}, { hasOwnProperty: 1 }],
    ];
    for (const args of cases) {
      const expected = shipped({}, ...args);
      const actual = patched({}, ...args);
      expect(shape(actual)).toEqual(shape(expected));
      expect(Object.getOwnPropertySymbols(actual)).toEqual(Object.getOwnPropertySymbols(expected));
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    }
    // Into a target that already has the key (also up its prototype chain): defined, not assigned.
    const frozenProto = Object.create(Object.freeze({ locked: 1 })) as Record<string, unknown>;
    expect(shape(patched(frozenProto, { locked: 2 }))).toEqual(shape(shipped(Object.create(Object.freeze({ locked: 1 })) as Record<string, unknown>, { locked: 2 })));
    expect(frozenProto.locked).toBe(2);
  });
});
