// Compat shim for `k6/metrics`: samples go to the registry with k6's tags. Like k6,
// custom metrics can only be declared in the init context; names are held to
// [a-z0-9_] (stricter than k6) so thresholds' `name{tag:value}` keys stay unambiguous.
import { iterationScope, registry } from "../../registry";
import type { MetricType } from "../../../src/report/thresholds";

class Metric {
  constructor(
    readonly name: string,
    type: MetricType,
    isTime = false,
  ) {
    if (iterationScope.getStore()) throw new Error(`metric "${name}": metrics must be declared in the init context`);
    if (!/^[a-z_][a-z0-9_]{0,127}$/.test(name)) throw new Error(`invalid metric name "${name}"`);
    const known = registry.metrics.get(name);
    if (known && known.type !== type) throw new Error(`metric "${name}" already declared as a ${known.type}`);
    registry.metrics.set(name, { type, contains: isTime ? "time" : "default" });
  }

  add(value: number | boolean, tags?: Record<string, string | number | boolean>): void {
    if (!iterationScope.getStore() && !registry.metrics.has(this.name)) throw new Error(`metric "${this.name}" not declared`);
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`metric "${this.name}": ${value} is not a number k6 accepts`);
    registry.add(this.name, Number(value), tags);
  }
}

export class Trend extends Metric {
  constructor(name: string, isTime = false) {
    super(name, "trend", isTime);
  }
}
export class Rate extends Metric {
  constructor(name: string) {
    super(name, "rate");
  }
}
export class Counter extends Metric {
  constructor(name: string) {
    super(name, "counter");
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, "gauge");
  }
}
