export { metricsEndpoint, METRICS_PATH, type MetricsRenderer } from "./metrics-endpoint";
export { SampledFigure } from "./sampled";
export { injectTraceContext, startTracing, traceHttpRequest, tracesExporterFromEnv, type TracesExporterName, type Tracing, type TracingConfig } from "./tracing";
