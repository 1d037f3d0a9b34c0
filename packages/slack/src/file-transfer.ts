/**
 * Downloading files with a size cap and a timeout: Linq attachments (public or signed URLs, redirects
 * followed) on their way into Slack, and Slack files (`url_private_download` with the bot token,
 * redirects refused: Slack redirects an unauthorised request to its sign-in page) on their way to
 * Linq. The body is read as a stream and abandoned as soon as it passes the cap.
 */

export type DownloadResult =
  | { ok: true; bytes: Buffer; contentType: string | undefined }
  | {
      ok: false;
      /** `too_large`, `unreachable` (4xx, refused, sign-in redirect) or `transient` (timeout, 5xx, reset). */
      reason: "too_large" | "unreachable" | "transient";
      detail: string;
    };

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  /** The size the sender declared, checked before downloading. */
  declaredBytes?: number | null;
  headers?: Record<string, string>;
  /** Follow redirects (Linq URLs) or treat them as a failure (Slack's sign-in redirect). */
  followRedirects: boolean;
  signal?: AbortSignal;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export async function downloadFile(
  url: string | null | undefined,
  options: DownloadOptions,
): Promise<DownloadResult> {
  if (url === undefined || url === null || !/^https?:\/\//i.test(url)) {
    return { ok: false, reason: "unreachable", detail: "the attachment has no downloadable URL" };
  }
  const limit = `the limit is ${formatBytes(options.maxBytes)}`;
  if (typeof options.declaredBytes === "number" && options.declaredBytes > options.maxBytes) {
    return { ok: false, reason: "too_large", detail: `${formatBytes(options.declaredBytes)}: ${limit}` };
  }
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal !== undefined) signals.push(options.signal);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: options.headers ?? {},
      redirect: options.followRedirects ? "follow" : "manual",
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (name === "TimeoutError") return { ok: false, reason: "transient", detail: "the download timed out" };
    if (code === "ENOTFOUND" || code === "ECONNREFUSED") {
      return {
        ok: false,
        reason: "unreachable",
        detail: `the file's host cannot be reached (${String(code)})`,
      };
    }
    return { ok: false, reason: "transient", detail: `the download failed (${String(code ?? name)})` };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined);
    return {
      ok: false,
      reason: "unreachable",
      detail: `the file server redirected (HTTP ${response.status}): not authorised`,
    };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return {
      ok: false,
      reason: response.status >= 500 || response.status === 429 ? "transient" : "unreachable",
      detail: `the file server answered HTTP ${response.status}`,
    };
  }
  const declaredLength = Number(response.headers.get("content-length"));
  if (Number.isFinite(declaredLength) && declaredLength > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, reason: "too_large", detail: `${formatBytes(declaredLength)}: ${limit}` };
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    const reader = response.body?.getReader();
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > options.maxBytes) {
          await reader.cancel().catch(() => undefined);
          return {
            ok: false,
            reason: "too_large",
            detail: `more than ${formatBytes(options.maxBytes)}: ${limit}`,
          };
        }
        chunks.push(Buffer.from(value));
      }
    }
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    return {
      ok: false,
      reason: "transient",
      detail: name === "TimeoutError" ? "the download timed out" : "the download was interrupted",
    };
  }
  return {
    ok: true,
    bytes: Buffer.concat(chunks, total),
    contentType: response.headers.get("content-type") ?? undefined,
  };
}

/** Downloads, retrying transient failures a couple of times before giving up. */
export async function downloadWithRetries(
  url: string | null | undefined,
  options: DownloadOptions & { attempts?: number },
): Promise<DownloadResult> {
  const attempts = options.attempts ?? 3;
  let result: DownloadResult = { ok: false, reason: "transient", detail: "not attempted" };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    result = await downloadFile(url, options);
    if (result.ok || result.reason !== "transient" || options.signal?.aborted === true) return result;
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  return result;
}
