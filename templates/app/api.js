// The public API on this origin. Tokens live in sessionStorage (this tab only, gone when it
// closes), never in a URL; an expired access token is renewed once with the refresh token.

const KEY = "hs.session";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
  /** Field → reason, from the API's per-field details ({fields: {"terms.price_fen": "必填"}}). */
  get fields() {
    const out = {};
    const fields = (this.details && this.details.fields) || {};
    for (const [k, v] of Object.entries(fields)) if (typeof v === "string") out[k] = v;
    return out;
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
  },
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
};

async function parse(resp) {
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  if (type.includes("json")) return resp.json();
  return resp;
}

function errorOf(resp, body) {
  const e = body && body.error;
  if (e && typeof e === "object") return new ApiError(resp.status, e.code, e.message || "操作未成功", e.details);
  return new ApiError(resp.status, "http_" + resp.status, resp.status >= 500
    ? "服务暂时不可用，请稍后再试" : "操作未成功（" + resp.status + "）", {});
}

let refreshing = null;

async function refresh() {
  const s = session.get();
  if (!s || !s.refresh_token) return false;
  refreshing = refreshing || fetch("/api/v1/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
  }).then(async (r) => {
    if (!r.ok) return false;
    const b = await r.json();
    session.set({ ...s, access_token: b.access_token, refresh_token: b.refresh_token });
    return true;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

/** One call; raw: the Response itself (for images). Throws ApiError with the API's message. */
export async function api(method, path, { body, headers = {}, raw = false, retry = true } = {}) {
  const s = session.get();
  const h = { ...headers };
  if (s && s.access_token) h.Authorization = "Bearer " + s.access_token;
  if (body !== undefined) h["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "网络连接失败，请检查网络后重试", {});
  }
  if (resp.status === 401 && retry && s && s.refresh_token && !path.startsWith("/api/v1/auth/")) {
    if (await refresh()) return api(method, path, { body, headers, raw, retry: false });
    session.clear();
  }
  if (raw && resp.ok) return resp;
  const data = await parse(resp).catch(() => null);
  if (!resp.ok) throw errorOf(resp, data);
  return data;
}

export const get = (path, opts) => api("GET", path, opts);
export const post = (path, body, opts = {}) => api("POST", path, { ...opts, body });

export async function login(provider, code) {
  const b = await api("POST", "/api/v1/auth/login", { body: { provider, code } });
  session.set({ access_token: b.access_token, refresh_token: b.refresh_token, user: b.user });
  return b.user;
}

export async function logout() {
  const s = session.get();
  try {
    await api("POST", "/api/v1/auth/logout", { body: { refresh_token: s && s.refresh_token }, retry: false });
  } catch { /* the tokens are dropped either way */ }
  session.clear();
}
