// Compat shim for `k6/metrics`: samples go to the registry (no aggregation, no thresholds).
import { registry } from "../../registry";

class Metric {
  constructor(readonly name: string) {}
  add(value: number | boolean): void {
    const list = registry.samples.get(this.name) ?? [];
    list.push(Number(value));
    registry.samples.set(this.name, list);
  }
}

export class Trend extends Metric {}
export class Rate extends Metric {}
export class Counter extends Metric {}
export class Gauge extends Metric {}
