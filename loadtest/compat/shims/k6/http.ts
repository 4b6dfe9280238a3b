// Compat shim for `k6/http`: asyncRequest over fetch, with k6's built-in HTTP metrics
// (http_reqs, http_req_duration, http_req_failed by the response callback's expected
// statuses; default 200-399) tagged as the scripts' systemTags keep them.
import { registry } from "../../registry";

interface ExpectedStatuses {
  __expected: number[];
}

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  responseCallback?: ExpectedStatuses;
  timeout?: string | number;
}

const PARAMS = new Set(["headers", "tags", "responseCallback", "timeout"]);

export function expectedStatuses(...statuses: number[]): ExpectedStatuses {
  return { __expected: statuses };
}

export async function asyncRequest(method: string, url: string, body: string | null, params: Params = {}) {
  for (const key of Object.keys(params)) if (!PARAMS.has(key)) throw new Error(`http shim: unsupported param "${key}"`);
  const started = performance.now();
  let status = 0;
  let text: string | null = null;
  try {
    const response = await fetch(url, { method, headers: params.headers, ...(body !== null ? { body } : {}) });
    text = await response.text();
    status = response.status;
  } catch {
    // k6 answers a transport failure with status 0 and no body.
  }
  const duration = performance.now() - started;
  const expected = params.responseCallback ? params.responseCallback.__expected.includes(status) : status >= 200 && status < 400;
  const tags = { name: params.tags?.name ?? url, method, status: String(status), expected_response: String(expected), ...params.tags };
  registry.add("http_reqs", 1, tags);
  registry.add("http_req_duration", duration, tags);
  registry.add("http_req_failed", expected ? 0 : 1, tags);
  return { status, body: text, timings: { duration } };
}

export default { asyncRequest, expectedStatuses };
