// Log in, consent and identity binding, my houses, the house check.

import { get, login, logout, post, session } from "../api.js";
import { config, currentUser, forgetUser, frame, go, proceed } from "../app.js";
import { faceVerify, hasPending } from "../face.js";
import { button, checkbox, field, h, kv, markFields, showError, toast } from "../ui.js";

const DEMO = [["demo-wangjianguo", "王建国（出卖人，与李秀英按份共有）"], ["demo-wuqiang", "吴强（出卖人）"],
  ["demo-zhoumin", "周敏（买受人）"]];

export async function loginScreen(el) {
  frame("登录");
  if (session.get()) {
    el.append(h("div.card", h("p", "您已登录。"), h("a.btn", { href: "#/houses" }, "进入首页"),
      button("退出登录", async () => { await logout(); forgetUser(); go("login"); }, "secondary")));
    return;
  }
  el.append(h("div.card", h("h2", "二手房网签备案"),
    h("p.lead", "买卖双方在手机上核验房源、签订《存量房买卖合同》，全部签名后自动网签备案。")));
  if (!config.sandbox) {
    el.append(h("div.card", h("p", "请从政务服务 App 或小程序中打开本服务，系统将自动登录。")));
    return;
  }
  const code = h("input", { type: "text", name: "code", autocomplete: "off", placeholder: "例如 demo-wangjianguo" });
  const doLogin = async (value) => {
    await login("sandbox", value);
    forgetUser();
    proceed();
  };
  el.append(h("div.card",
    h("p.sandbox-note", "开发环境：沙盒登录代替政务 App 授权，同一登录码即同一用户。"),
    field("沙盒登录码", code),
    button("登录", () => {
      if (!code.value.trim()) { toast("请填写登录码", true); return; }
      return doLogin(code.value.trim());
    }),
    h("h3", "演示账号"),
    DEMO.map(([c, who]) => button(who, () => doLogin(c), "secondary"))));
}

const CONSENT = [
  "为核实您是否为本人办理，本服务将通过第三方人脸核身服务，比对您的人脸与公安机关身份信息。",
  "人脸图像仅用于本次核验，由核身服务商处理，本服务不保存您的人脸图像；身份证号码加密保存，页面中仅显示部分号码。",
  "您可以拒绝，但将无法在线签署合同，可到不动产登记窗口办理。",
];

export async function bindScreen(el) {
  const me = await currentUser(true);
  frame("实名认证");
  if (me.real_name_verified) {
    el.append(h("div.result.ok", h("span.big", "已完成实名认证"), h("p", `${me.name_masked} ${me.id_number_masked}`)),
      button("继续", () => proceed()));
    return;
  }
  const name = h("input", { type: "text", name: "name", autocomplete: "name" });
  const idNo = h("input", { type: "text", name: "id_number", inputmode: "text", maxlength: "18", autocomplete: "off" });
  const agree = checkbox("我已阅读并同意《人脸识别信息处理告知书》", { name: "consent" });
  const form = h("div",
    h("div.card", h("h2", "人脸识别信息处理告知书"), CONSENT.map((t) => h("p.muted", t))),
    h("div.card", h("h2", "填写身份信息"),
      field("姓名", name, { name: "name" }),
      field("身份证号码", idNo, { name: "id_number", hint: "18位，末位可能为X" }),
      agree));
  if (hasPending("bind_identity")) el.append(h("p.sandbox-note", "人脸核身已完成，请点击下方按钮查询核验结果。"));
  el.append(form, button("同意并开始人脸核身", async () => {
    if (!agree.querySelector("input").checked) { toast("请先阅读并同意告知书", true); return; }
    try {
      await faceVerify({ purpose: "bind_identity", name: name.value.trim(), id_number: idNo.value.trim().toUpperCase() });
    } catch (err) {
      markFields(form, err);
      throw err;
    }
    await currentUser(true);
    toast("实名认证成功");
    proceed();
  }));
}

function address(unit) {
  return (unit && unit.location && unit.location.address) || "";
}

export async function housesScreen(el) {
  const [me, mine, contracts] = await Promise.all([currentUser(), get("/api/v1/properties/mine"),
    get("/api/v1/contracts")]);
  frame("我的房屋");
  el.append(h("div.card", h("p", h("b", me.name_masked), " ", h("span.muted", me.id_number_masked),
    h("span.tag.ok", "已实名"))));
  const houses = h("div.card", h("h2", "我名下的房屋"));
  if (!mine.items.length) {
    houses.append(h("p.muted", "您名下没有登记的房屋。作为买受人，请打开出卖人分享给您的签约邀请链接。"));
  }
  for (const u of mine.items) {
    houses.append(h("div.party",
      h("b", address(u)), h("p.muted", u.certificate_no),
      h("p.muted", `${u.building_area} ㎡ · ${u.planned_use} · ${u.ownership_kind_name}`),
      h("a.btn", { href: "#/check/" + encodeURIComponent(u.certificate_no) }, "核验并出售这套房")));
  }
  const cert = h("input", { type: "text", name: "certificate_no", placeholder: "鄂(2024)咸宁市不动产权第0000000号" });
  houses.append(field("按不动产权证号核验", cert, { name: "certificate_no" }),
    button("核验", () => {
      if (!cert.value.trim()) { toast("请填写不动产权证号", true); return; }
      go("check/" + encodeURIComponent(cert.value.trim()));
    }, "secondary"));
  el.append(houses);
  const list = h("ul.list");
  for (const c of contracts.items) {
    list.append(h("li", h("a", { href: "#/c/" + c.id },
      h("b", (c.house && c.house.location && [c.house.location.community, c.house.location.building,
        c.house.location.unit, c.house.location.room].filter(Boolean).join("")) || c.certificate_no || "二手房买卖合同",
        h("span.tag", c.status_label || c.status)),
      h("span.muted", c.contract_no || "草稿 · " + (c.created_at || "").slice(0, 10)))));
  }
  el.append(h("div.card", h("h2", "我的合同"), contracts.items.length ? list : h("p.muted", "暂无合同")),
    button("退出登录", async () => { await logout(); forgetUser(); go("login"); }, "secondary"));
}

const CHECK = "hs.check";

export function lastCheck() {
  try { return JSON.parse(sessionStorage.getItem(CHECK) || "null"); } catch { return null; }
}

export async function checkScreen(el, { args: [cert] }) {
  frame("房源核验", { back: "houses", step: 0 });
  const lender = h("input", { type: "text", name: "lender", placeholder: "例如 中国建设银行咸宁分行" });
  const transfer = checkbox("带押过户（抵押不注销，随房屋转移）", { name: "mortgage_transfer" });
  const out = h("div");
  const run = async () => {
    const body = { certificate_no: cert };
    if (transfer.querySelector("input").checked && lender.value.trim()) {
      body.mortgage_transfer = { lender: lender.value.trim() };
    }
    const result = await post("/api/v1/properties/check", body);
    sessionStorage.setItem(CHECK, JSON.stringify({ ...result, certificate_no: cert,
      mortgage_lender: body.mortgage_transfer ? body.mortgage_transfer.lender : null }));
    out.replaceChildren(...checkResult(result));
    mortgage.hidden = !body.mortgage_transfer && !(result.reasons || []).some((r) => r.code === "mortgaged");
  };
  const mortgage = h("div", h("div.card", h("h2", "有抵押的房屋"),
    h("p.muted", "如与买受人约定带押过户，请勾选并填写抵押权人（贷款银行）后重新核验。"),
    transfer, field("抵押权人", lender, { name: "mortgage_transfer.lender" })),
  button("重新核验", run, "secondary"));
  el.append(h("div.card", h("h2", "不动产权证号"), h("p", cert),
    h("p.muted", "系统将向不动产登记机构核实：您是否为登记的权利人，房屋是否被查封、抵押、异议登记、预告登记，是否已有备案合同。")),
  out, mortgage);
  try {
    await run();
  } catch (err) {
    showError(err);
  }
}

function checkResult(result) {
  const u = result.unit;
  const items = [];
  items.push(result.eligible
    ? h("div.result.ok", h("span.big", "✓ 核验通过，可以出售"), h("span", "您是登记的权利人，房屋无限制交易的情形"))
    : h("div.result.bad", h("span.big", "暂不能出售"), h("span", "原因如下")));
  if (result.reasons && result.reasons.length) {
    items.push(h("div.card", h("h2", "核验结果说明"),
      h("ul.reasons", result.reasons.map((r) => h("li", r.message)))));
  }
  if (u) {
    items.push(h("div.card", h("h2", "房屋信息"), kv([
      ["坐落", address(u)], ["权证号", u.certificate_no], ["建筑面积", `${u.building_area} ㎡`],
      ["套内面积", `${u.inner_area} ㎡`], ["用途", u.planned_use], ["结构", u.structure && u.structure.name],
      ["共有情况", u.ownership_kind_name],
      ["权利人", (u.owners || []).map((o) => `${o.name_masked}${o.share ? `（${o.share}%）` : ""}`).join("、")],
    ])));
  }
  if (result.eligible) items.push(h("a.btn", { href: "#/new" }, "起草买卖合同"));
  return items;
}

