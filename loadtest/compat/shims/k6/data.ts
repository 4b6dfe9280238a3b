// Compat shim for `k6/data`: a SharedArray as k6 makes one (grafana/k6
// internal/js/modules/k6/data/share.go and data.go): the builder must return an array,
// each element is stored as JSON and every read parses it and deep-freezes the result;
// writing to the array throws a TypeError ("SharedArray is immutable").
const deepFreeze = (value: unknown): unknown => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

const built = new Map<string, string[]>();

export class SharedArray<T> {
  readonly [index: number]: T;
  declare readonly length: number;

  constructor(name: string, build: () => T[]) {
    if (!name) throw new Error("empty name provided to SharedArray's constructor");
    if (typeof build !== "function") throw new Error("a function is expected as the second argument of SharedArray's constructor");
    let stored = built.get(name);
    if (!stored) {
      const result = build();
      if (!Array.isArray(result)) throw new Error("only arrays can be made into SharedArray");
      stored = result.map((item) => JSON.stringify(item) ?? "null");
      built.set(name, stored);
    }
    const items = stored;
    const immutable = () => {
      throw new TypeError("SharedArray is immutable");
    };
    return new Proxy([] as unknown as SharedArray<T>, {
      get(_target, key) {
        if (key === "length") return items.length;
        if (key === Symbol.iterator) return function* () {
          for (const item of items) yield deepFreeze(JSON.parse(item));
        };
        if (typeof key === "string" && /^\d+$/.test(key)) {
          const index = Number(key);
          return index < items.length ? deepFreeze(JSON.parse(items[index]!)) : undefined;
        }
        return undefined;
      },
      set: immutable,
      defineProperty: immutable,
      deleteProperty: immutable,
    });
  }
}

