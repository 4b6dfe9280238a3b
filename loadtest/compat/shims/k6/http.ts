// Compat shim for `k6/http`: asyncRequest over fetch. Only what the scenarios use.
interface Params {
  headers?: Record<string, string>;
}

export function expectedStatuses(...statuses: number[]): number[] {
  return statuses;
}

export async function asyncRequest(method: string, url: string, body: string | null, params: Params = {}) {
  const started = performance.now();
  try {
    const response = await fetch(url, { method, headers: params.headers, ...(body !== null ? { body } : {}) });
    const text = await response.text();
    return { status: response.status, body: text, timings: { duration: performance.now() - started } };
  } catch {
    return { status: 0, body: null, timings: { duration: performance.now() - started } };
  }
}

export default { asyncRequest, expectedStatuses };
