// The shell: hash routes (#/houses, #/c/<id>/sign …), the title bar, the sale's progress bar,
// and the login guard. Screens are modules loaded when first needed, so the first screen
// downloads only what it uses.

import { get, login, session } from "./api.js";
import { h, showError } from "./ui.js";

const root = document.documentElement;
export const config = {
  sandbox: root.dataset.sandbox === "1",
  provider: root.dataset.provider || "sandbox",
};

const view = document.getElementById("view");
const titleEl = document.getElementById("title");
const backEl = document.getElementById("back");
const stepsEl = document.getElementById("steps");

const STEPS = ["核验房源", "填写合同", "邀请签约", "确认合同", "签名", "备案"];
const NEXT = "hs.next";

// [pattern, module, export, needs a bound identity]
const ROUTES = [
  [/^login$/, "start", "loginScreen", false, false],
  [/^bind$/, "start", "bindScreen", true, false],
  [/^houses$/, "start", "housesScreen", true, true],
  [/^check\/(.+)$/, "start", "checkScreen", true, true],
  [/^new$/, "draft", "draftScreen", true, true],
  [/^invite\/([\w-]+)$/, "contract", "acceptScreen", true, true],
  [/^c\/(\w+)$/, "contract", "hubScreen", true, true],
  [/^c\/(\w+)\/(invite|read|sign|filed|timeline|revoke)$/, "contract", "stepScreen", true, true],
];

let generation = 0;
let me = null;

/** Render a screen: title, optional back target, progress step (null hides the bar). */
export function frame(title, { back = null, step = null } = {}) {
  titleEl.textContent = title;
  document.title = title + " · 二手房网签备案";
  backEl.hidden = !back;
  backEl.onclick = back ? () => go(back) : null;
  if (step === null) {
    stepsEl.hidden = true;
  } else {
    stepsEl.hidden = false;
    stepsEl.replaceChildren(...STEPS.map((s, i) =>
      h("span" + (i < step ? ".done" : i === step ? ".now" : ""),
        { "aria-current": i === step ? "step" : null }, s)));
  }
}

export function go(route) {
  if (location.hash === "#/" + route) render();
  else location.hash = "#/" + route;
}

export function currentRoute() {
  return location.hash.replace(/^#\/?/, "");
}

/** Continue where the user was headed before logging in / binding. */
export function proceed() {
  const next = sessionStorage.getItem(NEXT);
  sessionStorage.removeItem(NEXT);
  go(next && next !== "login" && next !== "bind" ? next : "houses");
}

export async function currentUser(refresh = false) {
  if (!me || refresh) me = await get("/api/v1/me");
  return me;
}

export function forgetUser() {
  me = null;
}

/** A screen is still current when its async work finishes (else it must not draw). */
export function isCurrent(gen) {
  return gen === generation;
}

async function render() {
  const gen = ++generation;
  const route = currentRoute() || (session.get() ? "houses" : "login");
  const match = ROUTES.map(([re, mod, fn, auth, bound]) => [route.match(re), mod, fn, auth, bound])
    .find(([m]) => m);
  if (!match) return go(session.get() ? "houses" : "login");
  const [m, mod, fn, auth, bound] = match;
  if (auth && !session.get()) {
    sessionStorage.setItem(NEXT, route);
    return go("login");
  }
  try {
    if (bound && !(await currentUser()).real_name_verified) {
      sessionStorage.setItem(NEXT, route);
      return go("bind");
    }
    const screens = await import(`./screens/${mod}.js`);
    if (!isCurrent(gen)) return;
    const content = h("div");
    await screens[fn](content, { gen, args: m.slice(1).map(decodeURIComponent), route });
    if (!isCurrent(gen)) return;
    view.replaceChildren(content);
    window.scrollTo(0, 0);
    // When the first screen can be used (read by benchmarks/bench_app.py).
    if (!performance.getEntriesByName("app:first-screen").length) performance.mark("app:first-screen");
  } catch (err) {
    if (!isCurrent(gen)) return;
    if (err && err.status === 401) {
      session.clear();
      forgetUser();
      sessionStorage.setItem(NEXT, route);
      return go("login");
    }
    frame("出错了", { back: "houses" });
    view.replaceChildren(h("div.card", h("p", (err && err.message) || "页面加载失败"),
      h("a.btn", { href: "#/houses" }, "返回首页")));
    if (!err || !err.code) console.warn(err);
  }
}

/** The host app opens /app/?code=…: exchange it, then take the code out of the address. */
async function hostLogin() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return;
  const provider = params.get("provider") || config.provider;
  history.replaceState(null, "", location.pathname + location.hash);
  try {
    await login(provider, code);
    forgetUser();
  } catch (err) {
    showError(err);
  }
}

/** Back from a provider's face page (it returns to /app/): reopen the screen that started it. */
function returnFromFacePage() {
  try {
    const pending = JSON.parse(sessionStorage.getItem("hs.face") || "null");
    if (pending && pending.route && !currentRoute()) history.replaceState(null, "", "#/" + pending.route);
  } catch { /* nothing pending */ }
}

window.addEventListener("hashchange", render);
returnFromFacePage();
hostLogin().then(render);
