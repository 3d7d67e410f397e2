// DOM helpers: elements without innerHTML (nothing from data is ever parsed as HTML), labelled
// fields, buttons that show they are busy, and the API's messages in plain words.

let uid = 0;

/** h("div.card", {onclick}, child, ...) — tag with optional .classes and #id. */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement((m && m[1]) || "div");
  for (const part of ((m && m[2]) || "").match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A labelled field. control: an element (gets an id) or attrs for an <input>. */
export function field(label, control, { hint, name } = {}) {
  const el = control instanceof Node ? control : h("input", { type: "text", ...control });
  el.id = el.id || "f" + ++uid;
  if (name) el.name = name;
  const wrap = h("div.field", { dataset: { field: name || el.name || "" } },
    h("label", { for: el.id }, label), el, hint ? h("span.hint", hint) : null);
  return wrap;
}

export function select(options, value) {
  return h("select", {}, Object.entries(options).map(([k, v]) =>
    h("option", { value: k, selected: k === value ? true : null }, v)));
}

export function checkbox(label, attrs = {}) {
  const input = h("input", { type: "checkbox", ...attrs });
  input.id = input.id || "f" + ++uid;
  return h("label.check", { for: input.id }, input, h("span", label));
}

export function radios(name, options, value) {
  return h("div.radios", { role: "radiogroup" }, Object.entries(options).map(([k, v]) => {
    const id = "f" + ++uid;
    return h("label", { for: id }, h("input", { type: "radio", id, name, value: k, checked: k === value }), v);
  }));
}

export function button(text, onclick, cls = "") {
  const b = h("button.btn" + (cls ? "." + cls.split(" ").join(".") : ""), { type: "button" }, text);
  b.addEventListener("click", async (ev) => {
    if (b.disabled) return;
    b.disabled = true;
    const before = b.textContent;
    b.textContent = "请稍候…";
    try {
      await onclick(ev);
    } catch (err) {
      showError(err);
    } finally {
      if (b.isConnected) {
        b.disabled = false;
        b.textContent = before;
      }
    }
  });
  return b;
}

export function linkButton(text, href, cls = "") {
  return h("a.btn" + (cls ? "." + cls : ""), { href }, text);
}

let toastTimer = null;

export function toast(message, bad = false) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = "toast" + (bad ? " bad" : "");
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 6000 : 3000);
}

/** The API's message, plus the first field reasons, in plain words. */
export function describe(err) {
  if (!err || !err.code) return "操作未成功，请稍后再试";
  const reasons = Object.entries(err.fields || {}).slice(0, 3).map(([k, v]) => `${fieldName(k)}：${v}`);
  return reasons.length ? `${err.message}（${reasons.join("；")}）` : err.message;
}

export function showError(err) {
  if (!err || !err.code) console.warn(err);
  toast(describe(err), true);
}

const NAMES = {
  price_fen: "成交价", payment_method: "付款方式", payment_schedule: "付款安排", deposit_fen: "定金",
  funds_custody: "资金监管", custody_bank: "监管银行", delivery_date: "交房日期",
  taxes_borne_by: "税费承担", mortgage_transfer: "带押过户", lender: "抵押权人",
  outstanding_fen: "剩余贷款", late_payment_daily_permyriad: "逾期违约金",
  termination_after_days: "解除合同期限", registration_within_days: "申请登记期限",
  dispute_resolution: "争议解决", institution: "机构名称", method: "方式",
  supplementary_terms: "补充条款", name: "姓名", id_number: "身份证号", phone: "手机号",
  address: "通讯地址", share: "份额", sellers: "出卖人", buyers: "买受人", certificate_no: "不动产权证号",
  due_date: "日期", amount_fen: "金额", description: "说明", signature_image: "签名",
};

export function fieldName(path) {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".").filter((p) => p !== "terms");
  return parts.map((p) => (/^\d+$/.test(p) ? `第${Number(p) + 1}项` : NAMES[p] || p)).join("·");
}

/** Put per-field reasons next to the fields (data-field="terms.price_fen"), first one in view. */
export function markFields(root, err) {
  for (const el of root.querySelectorAll(".field.invalid")) {
    el.classList.remove("invalid");
    el.querySelector(".err")?.remove();
  }
  let first = null;
  for (const [path, reason] of Object.entries(err.fields || {})) {
    const target = root.querySelector(`[data-field="${CSS.escape(path)}"]`);
    if (!target) continue;
    target.classList.add("invalid");
    target.append(h("span.err", reason));
    first = first || target;
  }
  if (first) first.scrollIntoView({ block: "center" });
}

export function kv(rows) {
  return h("dl.kv", rows.filter(Boolean).map(([k, v]) => h("div", h("dt", k), h("dd", v ?? "—"))));
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
