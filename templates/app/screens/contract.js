// One contract: where it stands and what to do next, then each step on its own screen —
// invite, accept an invitation, read the pages, confirm, sign, filed, timeline, revocation.

import { api, get, post } from "../api.js";
import { currentUser, frame, go, isCurrent } from "../app.js";
import { faceVerify, hasPending } from "../face.js";
import { capitalAmount, figuresAmount } from "../numerals.js";
import { signaturePad } from "../sigpad.js";
import { button, checkbox, field, fmtTime, h, kv, toast } from "../ui.js";

const ROLE = { seller: "出卖人", buyer: "买受人", agent: "经纪机构" };
const PAY = { full: "全款", commercial_loan: "商业贷款", provident_fund_loan: "公积金贷款", combined: "组合贷款" };

const load = (id) => get(`/api/v1/contracts/${encodeURIComponent(id)}`);
// The sale's documents besides the contract (funds-custody agreement, transaction notice).
const others = (c) => (c.documents || []).filter((d) => d.kind !== "contract");

/** The page previews of one document of the sale into `box` (X-Page-Count on the first
 * page says how many follow: no probing past the end). */
async function pagesInto(box, c, kind, title) {
  const q = kind === "contract" ? "" : `?kind=${encodeURIComponent(kind)}`;
  let count = 1;
  for (let n = 1; n <= count; n++) {
    const resp = await api("GET", `/api/v1/contracts/${encodeURIComponent(c.id)}/pages/${n}.png${q}`, { raw: true });
    if (n === 1) count = Math.min(Number(resp.headers.get("X-Page-Count")) || 1, 50);
    const url = URL.createObjectURL(await resp.blob());
    box.append(h("img", { src: url, alt: `${title}第${n}页`, width: "750", height: "1061" }));
  }
}

/** Save one document's PDF (a download the browser names). */
async function savePdf(url, name) {
  const where = new URL(url, location.href);
  const resp = await api("GET", where.pathname + where.search, { raw: true });
  const a = h("a", { href: URL.createObjectURL(await resp.blob()), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}
const me = (c) => c.parties.find((p) => p.is_me) || {};
const allJoined = (c) => c.parties.every((p) => p.joined);

/** Where the sale stands on the progress bar (0 check … 5 filed, 6 = every step done). */
export function stepOf(c) {
  if (c.status === "draft") return allJoined(c) ? 3 : 2;
  if (c.status === "signing") return 4;
  if (["filed", "registration_accepted", "registered"].includes(c.status)) return 6;
  return null;
}

function houseText(c) {
  const l = c.house && c.house.location;
  return l ? [l.city, l.district, l.community, l.building, l.unit, l.room].filter(Boolean).join("") : "（出卖人加入后显示房屋信息）";
}

function partyList(c) {
  return h("ul.list", c.parties.map((p) => h("li", h("div", { class: "party-row" },
    h("b", `${ROLE[p.role] || p.role} ${p.name_masked}`, p.is_me ? h("span.tag", "我") : null),
    h("span.muted", p.id_number_masked), " ",
    h("span.tag" + (p.joined ? ".ok" : ".warn"), p.joined ? "已加入" : "待加入"),
    c.status === "draft" && p.joined ? h("span.tag" + (p.confirmed ? ".ok" : ".warn"), p.confirmed ? "已确认" : "待确认") : null,
    c.status !== "draft" && c.status !== "cancelled" ? h("span.tag" + (p.signed ? ".ok" : ".warn"), p.signed ? "已签名" : "待签名") : null,
    c.revocation_requested_at ? h("span.tag" + (p.revocation_confirmed ? ".bad" : ".warn"),
      p.revocation_confirmed ? "已确认注销" : "待确认注销") : null))));
}

/** Re-draw when another party moves the contract on (they act on their own phones). */
function watch(gen, c, redraw) {
  const stamp = (x) => JSON.stringify([x.status, x.version, x.filing_state, x.revocation_requested_at,
    x.parties.map((p) => [p.joined, p.confirmed, p.signed, p.revocation_confirmed])]);
  const before = stamp(c);
  const timer = setInterval(async () => {
    if (!isCurrent(gen)) { clearInterval(timer); return; }
    try {
      const now = await load(c.id);
      if (isCurrent(gen) && stamp(now) !== before) { clearInterval(timer); redraw(); }
    } catch { /* keep the screen; the next tick tries again */ }
  }, 2500);
}

export async function hubScreen(el, { gen, args: [id], route }) {
  const c = await load(id);
  const mine = me(c);
  frame("合同详情", { back: "houses", step: stepOf(c) });
  el.append(h("div.card", h("h2", houseText(c)),
    kv([["合同状态", h("b", c.status_label)], ["合同编号", c.contract_no || "全部确认后生成"],
      ["备案编号", c.filing_no], ["成交价", c.terms ? `¥${figuresAmount(c.terms.price_fen)}` : null]])),
  h("div.card", h("h2", "签约方"), partyList(c)));
  const next = h("div.actions");
  let waiting = false;
  if (c.status === "draft" && !allJoined(c)) {
    next.append(h("p.lead", "还有签约方没有加入，请把邀请发给对方。"), h("a.btn", { href: `#/c/${id}/invite` }, "邀请签约方"));
    waiting = true;
  } else if (c.status === "draft" && !mine.confirmed) {
    next.append(h("p.lead", "全部签约方已加入。请阅读合同全文并确认。"), h("a.btn", { href: `#/c/${id}/read` }, "阅读并确认合同"));
    waiting = true;
  } else if (c.status === "draft") {
    next.append(h("p.lead", "您已确认本版合同，正在等待其他签约方确认。"));
    waiting = true;
  } else if (c.status === "signing" && !mine.signed) {
    next.append(h("p.lead", "合同内容已锁定。请签名，签名前需要刷脸核验本人身份。"),
      h("a.btn", { href: `#/c/${id}/sign` }, "去签名"), h("a.btn.secondary", { href: `#/c/${id}/read` }, "查看合同"));
  } else if (c.status === "signing") {
    next.append(h("p.lead", "您已签名，正在等待其他签约方签名。全部签名后自动备案。"));
    waiting = true;
  } else if (["filed", "registration_accepted", "registered", "revoked"].includes(c.status)) {
    next.append(h("a.btn", { href: `#/c/${id}/filed` }, c.status === "revoked" ? "查看注销结果" : "查看备案结果"));
    if (c.status === "filed") next.append(h("a.btn.secondary", { href: `#/c/${id}/revoke` },
      c.revocation_requested_at ? "处理注销申请" : "申请注销备案"));
  }
  next.append(h("a.btn.secondary", { href: `#/c/${id}/timeline` }, "一号查询：办理记录"));
  el.append(next);
  if (waiting || c.revocation_requested_at || c.filing_state === "sealing") watch(gen, c, () => go(route));
}

export async function stepScreen(el, ctx) {
  const [id, step] = ctx.args;
  const c = await load(id);
  return STEP_SCREENS[step](el, c, ctx);
}

const STEP_SCREENS = {
  async invite(el, c, { gen, route }) {
    frame("邀请签约方", { back: `c/${c.id}`, step: 2 });
    const others = c.parties.filter((p) => !p.joined);
    if (!others.length) {
      el.append(h("div.result.ok", h("span.big", "全部签约方已加入")), h("a.btn", { href: `#/c/${c.id}/read` }, "阅读并确认合同"));
      return;
    }
    el.append(h("p.lead", "为每位待加入的签约方生成邀请，请对方用手机扫码或打开链接，实名认证后加入。邀请仅限本人使用。"));
    for (const p of others) {
      const out = h("div");
      el.append(h("div.card", h("h2", `${ROLE[p.role]} ${p.name_masked}`), h("p.muted", `${p.id_number_masked} · ${p.phone_masked || ""}`),
        out, button("生成邀请", async () => {
          const inv = await post(`/api/v1/contracts/${encodeURIComponent(c.id)}/invitations`, { party_id: p.party_id });
          const link = `${location.origin}/app/#/invite/${inv.token}`;
          out.replaceChildren(
            h("img.qr", { src: "/app/qr.svg?u=" + encodeURIComponent(link), alt: "签约邀请二维码", width: "220", height: "220" }),
            h("p.center.muted", "请对方用手机扫描二维码"),
            h("p.share", { "data-share-link": "" }, link),
            h("p.muted", `有效期至 ${fmtTime(inv.expires_at)}`),
            button("复制邀请链接", async () => {
              try {
                await navigator.clipboard.writeText(link);
                toast("已复制，可粘贴发送给对方");
              } catch {
                toast("请长按上方链接复制");
              }
            }, "secondary"));
        }, "secondary")));
    }
    el.append(h("a.btn", { href: `#/c/${c.id}` }, "返回合同详情"));
    watch(gen, c, () => go(route));
  },

  async read(el, c) {
    const mine = me(c);
    frame("阅读合同", { back: `c/${c.id}`, step: c.status === "draft" ? 3 : stepOf(c) });
    const t = c.terms;
    el.append(h("div.card", h("h2", "主要条款"), kv([
      ["房屋", houseText(c)],
      ["成交价", h("span", `¥${figuresAmount(t.price_fen)}`, h("br"), h("b", capitalAmount(t.price_fen)))],
      ["付款方式", PAY[t.payment_method]],
      ["付款安排", h("span", t.payment_schedule.map((s) => h("span", `${s.due_date} ${s.description} ¥${figuresAmount(s.amount_fen)}`, h("br"))))],
      ["定金", `¥${figuresAmount(t.deposit_fen)}`],
      ["资金监管", t.funds_custody ? `是（${t.custody_bank}）` : "否"],
      ["带押过户", t.mortgage_transfer ? `是（${t.mortgage_transfer.lender}）` : "否"],
      ["交房日期", t.delivery_date],
      ["争议解决", `${t.dispute_resolution.method === "arbitration" ? "仲裁" : "诉讼"} · ${t.dispute_resolution.institution}`],
      ["合同版本", `第${c.version}版`],
    ])));
    const pages = h("div.pages");
    el.append(h("div.card", h("h2", "合同全文"), pages));
    await pagesInto(pages, c, "contract", "合同");
    // the other documents every party signs with the contract, read on demand
    for (const d of others(c)) {
      const box = h("div.pages");
      const card = h("div.card", h("h2", d.title), h("p.muted", "与合同一并签署：一次刷脸核验即签署全部文件。"), box);
      const open = button(`查看《${d.title}》全文`, async () => {
        await pagesInto(box, c, d.kind, d.title);
        open.remove();
      }, "secondary");
      card.append(open);
      el.append(card);
    }
    if (c.status === "draft" && allJoined(c) && !mine.confirmed) {
      const agree = checkbox("我已阅读合同全部条款，确认内容无误");
      el.append(h("div.card", agree), button(`确认合同（第${c.version}版）`, async () => {
        if (!agree.querySelector("input").checked) { toast("请先勾选已阅读", true); return; }
        await post(`/api/v1/contracts/${encodeURIComponent(c.id)}/confirm`, { version: c.version });
        toast("已确认");
        go(`c/${c.id}`);
      }));
    } else if (c.status === "signing" && !mine.signed) {
      el.append(h("a.btn", { href: `#/c/${c.id}/sign` }, "去签名"));
    }
  },

  async sign(el, c) {
    frame("签名", { back: `c/${c.id}`, step: 4 });
    const mine = me(c);
    if (c.status !== "signing" || mine.signed) {
      el.append(h("div.card", h("p", mine.signed ? "您已签名。" : "合同当前不能签名。")), h("a.btn", { href: `#/c/${c.id}` }, "返回合同详情"));
      return;
    }
    const pad = signaturePad();
    if (hasPending("sign")) el.append(h("p.sandbox-note", "人脸核身已完成，请重新手写签名后点击下方按钮完成签署。"));
    const docs = c.documents && c.documents.length ? c.documents : [{ title: "存量房买卖合同" }];
    el.append(h("div.card", h("h2", `本次签署${docs.length}份文件`),
      h("ol#sign-documents", docs.map((d) => h("li", `《${d.title}》`))),
      h("p.muted", "一次刷脸核验，您的签名将同时加盖在以上每份文件上；任何一份未能签署，则全部不签署。")));
    el.append(h("div.card", h("h2", "请在框内手写签名"),
      h("p.muted", `签名人：${mine.name_masked}（${ROLE[mine.role]}）。签名将加盖在每份文件上，并附数字证书，签名后文件不可修改。`),
      pad.element,
      h("div.actions", h("button.btn.secondary", { type: "button", onclick: () => pad.clear() }, "清除重写"))),
    button("刷脸核验并签署", async () => {
      if (!pad.signed) { toast("请先在框内手写签名", true); return; }
      const image = pad.png();
      const fv = await faceVerify({ purpose: "sign", contract_id: c.id });
      const after = await post(`/api/v1/contracts/${encodeURIComponent(c.id)}/signatures`,
        { face_verification_id: fv.id, signature_image: image });
      toast("签名成功");
      go(after.status === "filed" ? `c/${c.id}/filed` : `c/${c.id}`);
    }));
  },

  async filed(el, c, { gen, route }) {
    frame(c.status === "revoked" ? "已注销" : "备案结果", { back: `c/${c.id}`, step: stepOf(c) });
    if (!["filed", "registration_accepted", "registered", "revoked"].includes(c.status)) {
      el.append(h("div.card", h("p", "合同尚未备案。")), h("a.btn", { href: `#/c/${c.id}` }, "返回合同详情"));
      return;
    }
    el.append(c.status === "revoked"
      ? h("div.result.bad", h("span.big", "备案已注销"), h("span", `注销时间 ${fmtTime(c.revoked_at)}`))
      : h("div.result.ok", h("span.big#filed-status", "✓ 已网签备案"), h("span", "合同已由住房和城乡建设部门备案，具有备案效力")),
    h("div.card", kv([["备案编号", h("b#filing-no", c.filing_no)], ["合同编号", c.contract_no], ["备案时间", fmtTime(c.filed_at)],
      ["房屋", houseText(c)], ["签章", c.filing_state === "done" ? "备案机构电子签章已加盖" : "正在加盖备案机构电子签章…"]])));
    if (c.verification_url) {
      el.append(h("div.card.center", h("h2", "核验二维码"),
        h("img.qr", { src: "/app/qr.svg?u=" + encodeURIComponent(c.verification_url), alt: "合同核验二维码", width: "220", height: "220" }),
        h("p.muted", "银行、税务等机构扫码即可核验合同真伪与备案状态"),
        h("a.link#verify-link", { href: c.verification_url }, "打开核验页面")));
    }
    if (others(c).length) {
      el.append(h("div.card", h("h2", "随合同备案的文件"), h("ul#filed-documents", others(c).map((d) => h("li",
        h("b", d.title), h("br"),
        d.verification_url ? h("a.link", { href: d.verification_url }, "打开该文件的核验页面") : null)))));
    }
    el.append(button("保存合同 PDF", () => savePdf(`/api/v1/contracts/${encodeURIComponent(c.id)}/document.pdf`,
      `${c.contract_no || "合同"}.pdf`), "secondary"),
    ...others(c).map((d) => button(`保存《${d.title}》PDF`, () => savePdf(d.url, `${c.contract_no || "合同"}-${d.title}.pdf`), "secondary")),
    h("a.btn.secondary", { href: `#/c/${c.id}/timeline` }, "一号查询：办理记录"),
    h("a.btn.secondary", { href: "#/houses" }, "返回首页"));
    if (c.filing_state === "sealing") watch(gen, c, () => go(route));
  },

  async timeline(el, c) {
    frame("一号查询", { back: `c/${c.id}`, step: null });
    const { events } = await get(`/api/v1/contracts/${encodeURIComponent(c.id)}/timeline`);
    const who = Object.fromEntries(c.parties.map((p) => [p.party_id, `${ROLE[p.role]} ${p.name_masked}`]));
    el.append(h("div.card", h("h2", houseText(c)), h("p.muted", `合同编号 ${c.contract_no || "—"} · 共${events.length}条记录，记录之间以哈希链相连，不可篡改`)),
      h("div.card", h("ol.timeline", events.map((e) => h("li",
        h("b", EVENTS[e.kind] || e.kind), " ", h("span.muted", who[e.actor] || actorText(e)),
        h("time", { datetime: e.at }, fmtTime(e.at)))))));
  },

  async revoke(el, c, { gen, route }) {
    frame("注销备案", { back: `c/${c.id}`, step: null });
    const mine = me(c);
    if (c.status === "revoked") {
      el.append(h("div.result.bad", h("span.big", "备案已注销")), h("a.btn", { href: `#/c/${c.id}` }, "返回合同详情"));
      return;
    }
    if (c.status !== "filed") {
      el.append(h("div.card", h("p", "只有已备案、尚未被登记机构受理的合同可以注销。")), h("a.btn", { href: `#/c/${c.id}` }, "返回"));
      return;
    }
    const confirmRevocation = async () => {
      const fv = await faceVerify({ purpose: "revoke", contract_id: c.id });
      const after = await post(`/api/v1/contracts/${encodeURIComponent(c.id)}/revocation/confirm`, { face_verification_id: fv.id });
      toast(after.status === "revoked" ? "备案已注销" : "已确认注销，等待其他签约方确认");
      go(`c/${c.id}`);
    };
    el.append(h("div.card", h("h2", "注销须全体签约方同意"),
      h("p.muted", "注销后合同失效，房屋可重新签约。每位签约方须刷脸确认；登记机构受理转移登记后不能再注销。"), partyList(c)));
    if (!c.revocation_requested_at) {
      const reason = h("textarea", { maxlength: "200", name: "reason" });
      el.append(h("div.card", field("注销原因", reason, { name: "reason" })),
        button("申请注销并刷脸确认", async () => {
          await post(`/api/v1/contracts/${encodeURIComponent(c.id)}/revocation`, { reason: reason.value.trim() });
          await confirmRevocation();
        }, "danger"));
    } else if (!mine.revocation_confirmed) {
      el.append(h("p.lead", "对方已申请注销本合同备案。如您同意，请刷脸确认。"), button("同意注销并刷脸确认", confirmRevocation, "danger"));
    } else {
      el.append(h("p.lead", "您已确认注销，正在等待其他签约方确认。"));
      watch(gen, c, () => go(route));
    }
  },
};

const EVENTS = {
  created: "创建合同草稿", house_checked: "房源核验", invited: "发出签约邀请", joined: "签约方加入",
  edited: "修改合同", confirmed: "确认合同", frozen: "合同锁定，生成合同编号", signed: "签名",
  filed: "网签备案", sealed: "加盖备案电子签章", filing_refused: "备案未成功", revocation_requested: "申请注销",
  revocation_confirmed: "确认注销", revoked: "备案注销", registration_accepted: "登记机构受理",
  registered: "转移登记完成", cancelled: "撤销草稿", expired: "草稿过期", draft_expired: "草稿过期",
  agency_accessed: "部门调取合同数据",
};

// Who acted, when it was not a party: the system, a service point's staff member (代理签约),
// or an agency that read the filed contract (which items).
function actorText(e) {
  if (e.actor === "system") return "系统";
  const d = e.data || {};
  if (d.staff) return `${d.staff.service_point} ${d.staff.name}`;
  if (d.agency_name) return `${d.agency_name}：${(d.item_labels || []).join("、") || "合同状态"}`;
  return "";
}

export async function acceptScreen(el, { args: [token] }) {
  frame("签约邀请", { step: 2 });
  const user = await currentUser();
  el.append(h("div.card", h("h2", "您收到一份二手房买卖合同的签约邀请"),
    h("p.muted", `当前实名用户：${user.name_masked} ${user.id_number_masked}`),
    h("p.muted", "邀请仅限被邀请人本人接受：系统将核对您的实名身份与合同中登记的身份证号码。")),
  button("接受邀请并查看合同", async () => {
    const c = await post(`/api/v1/invitations/${encodeURIComponent(token)}/accept`);
    toast("已加入合同");
    go(`c/${c.id}`);
  }), h("a.btn.secondary", { href: "#/houses" }, "暂不处理"));
}

