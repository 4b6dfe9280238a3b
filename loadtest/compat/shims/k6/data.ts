// Compat shim for `k6/data`: one process, so a SharedArray is just the array.
export class SharedArray<T> {
  constructor(_name: string, build: () => T[]) {
    return build() as unknown as SharedArray<T>;
  }
}
