// The contract form: every term of the model contract (存量房买卖合同示范文本), the parties, the
// price in capital numerals as it is typed, the payment schedule rows. Field reasons from the
// API land next to the fields (data-field = the API's path, e.g. terms.payment_schedule[0].amount_fen).

import { post } from "../api.js";
import { frame, go } from "../app.js";
import { capitalAmount, figuresAmount, parseYuan } from "../numerals.js";
import { button, checkbox, field, h, kv, markFields, radios, select, toast } from "../ui.js";
import { lastCheck } from "./start.js";

const PAYMENT_METHODS = { full: "全款", commercial_loan: "商业贷款", provident_fund_loan: "公积金贷款",
  combined: "组合贷款" };
const TAX_BEARERS = { by_law: "按国家及地方规定各自承担", buyer: "全部由买受人承担", seller: "全部由出卖人承担" };
const DISPUTES = { arbitration: "提交仲裁委员会仲裁", court: "向人民法院起诉" };

function isoDate(daysAhead) {
  const d = new Date(Date.now() + daysAhead * 86400000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** An amount input in yuan with its capitals shown live underneath. */
function money(label, path, { value = "", hint } = {}) {
  const input = h("input", { type: "text", inputmode: "decimal", autocomplete: "off", value });
  const cap = h("div.capital", { "aria-live": "polite" });
  const show = () => {
    const fen = parseYuan(input.value);
    cap.textContent = input.value.trim() === "" ? "大写：—"
      : fen === null ? "请填写金额（元），最多两位小数"
        : `大写：${capitalAmount(fen)}（¥${figuresAmount(fen)}）`;
  };
  input.addEventListener("input", show);
  show();
  const wrap = field(label + "（元）", input, { name: path, hint });
  wrap.append(cap);
  wrap.fen = () => parseYuan(input.value);
  wrap.input = input;
  return wrap;
}

function text(label, path, attrs = {}, hint) {
  const { multiline, ...rest } = attrs;
  const input = multiline ? h("textarea", rest) : h("input", { type: "text", ...rest });
  const wrap = field(label, input, { name: path, hint });
  wrap.input = input;
  return wrap;
}

function partyBox(role, index, { legend, share, owner } = {}) {
  const path = `${role}s[${index}]`;
  const f = {
    name: text("姓名", `${path}.name`, { autocomplete: "off", placeholder: owner ? owner.name_masked : "" }),
    id_number: text("身份证号码", `${path}.id_number`, { maxlength: "18", autocomplete: "off",
      placeholder: owner ? owner.id_number_masked : "" }),
    phone: text("手机号码", `${path}.phone`, { type: "tel", inputmode: "numeric", maxlength: "11", autocomplete: "off" }),
    address: text("通讯地址", `${path}.address`, { autocomplete: "off" }),
    share: text("份额（%）", `${path}.share`, { inputmode: "decimal", value: share ?? "" }),
  };
  const box = h("fieldset.party", { dataset: { field: path } }, h("legend", legend),
    f.name, f.id_number, f.phone, f.address, share !== undefined ? f.share : null);
  box.value = () => {
    const out = { name: f.name.input.value.trim(), id_number: f.id_number.input.value.trim().toUpperCase(),
      phone: f.phone.input.value.trim(), address: f.address.input.value.trim() };
    if (share !== undefined && f.share.input.value.trim() !== "") out.share = Number(f.share.input.value);
    return out;
  };
  box.shareField = f.share;
  return box;
}

export async function draftScreen(el) {
  const check = lastCheck();
  frame("填写买卖合同", { back: check ? "check/" + encodeURIComponent(check.certificate_no) : "houses", step: 1 });
  if (!check || !check.eligible || !check.unit) {
    el.append(h("div.card", h("p", "请先核验房源，核验通过后再起草合同。")), h("a.btn", { href: "#/houses" }, "去核验"));
    return;
  }
  const unit = check.unit;
  const byShare = unit.ownership_kind === "by_share";

  // parties
  const sellers = (unit.owners || []).map((o, i) => partyBox("seller", i, {
    legend: `出卖人${unit.owners.length > 1 ? i + 1 : ""}（登记权利人 ${o.name_masked}）`,
    share: byShare ? o.share : undefined, owner: o }));
  const buyersBox = h("div", { dataset: { field: "buyers" } });
  const buyers = [];
  const addBuyer = () => {
    const b = partyBox("buyer", buyers.length, { legend: `买受人${buyers.length + 1}`, share: "" });
    buyers.push(b);
    buyersBox.append(b);
    const many = buyers.length > 1;
    for (const x of buyers) x.shareField.hidden = !many;
  };
  addBuyer();
  for (const b of buyers) b.shareField.hidden = true;

  // price and payment
  const price = money("成交价", "terms.price_fen");
  const deposit = money("定金", "terms.deposit_fen", { value: "0", hint: "不超过成交价的20%" });
  const method = select(PAYMENT_METHODS, "commercial_loan");
  const rowsBox = h("div");
  const rows = [];
  const sum = h("p.muted", { "aria-live": "polite" });
  const updateSum = () => {
    const total = rows.reduce((s, r) => s + (r.amount.fen() || 0), 0);
    const p = price.fen();
    sum.textContent = `各期合计 ¥${figuresAmount(total)}` + (p === null ? "" : total === p ? "，与成交价一致 ✓"
      : `，与成交价相差 ¥${figuresAmount(Math.abs(p - total))}`);
  };
  const addRow = (desc = "", days = 7, amount = "") => {
    const i = rows.length;
    const path = `terms.payment_schedule[${i}]`;
    const r = {
      due: text("付款日期", `${path}.due_date`, { type: "date", value: isoDate(days) }),
      amount: money("金额", `${path}.amount_fen`, { value: amount }),
      desc: text("款项说明", `${path}.description`, { value: desc, placeholder: "如 首付款、贷款放款" }),
    };
    r.amount.input.addEventListener("input", updateSum);
    r.box = h("fieldset.installment", h("legend", `第${i + 1}期`), r.due, r.amount, r.desc);
    rows.push(r);
    rowsBox.append(r.box);
    updateSum();
  };
  price.input.addEventListener("input", updateSum);
  addRow("首付款", 7);
  addRow("贷款放款", 40);
  const removeRow = h("button.btn.secondary.small", { type: "button", onclick: () => {
    if (rows.length <= 1) return;
    rows.pop().box.remove();
    updateSum();
  } }, "删除最后一期");

  // custody, mortgage transfer
  const custody = checkbox("房款通过资金监管账户支付（建议）", { checked: true });
  const bank = text("监管银行", "terms.custody_bank", { value: "", placeholder: "例如 中国建设银行咸宁分行" });
  const mortgaged = (check.reasons || []).length === 0 && check.mortgage_lender;
  const transfer = checkbox("带押过户：出卖人的抵押贷款随房屋转移，不先还清", { checked: !!mortgaged });
  const lender = text("抵押权人", "terms.mortgage_transfer.lender", { value: check.mortgage_lender || "" });
  const owed = money("剩余贷款本金", "terms.mortgage_transfer.outstanding_fen", { value: "" });
  const toggle = (box, ...fields) => {
    const on = box.querySelector("input");
    const sync = () => fields.forEach((f) => { f.hidden = !on.checked; });
    on.addEventListener("change", sync);
    sync();
  };
  toggle(custody, bank);
  toggle(transfer, lender, owed);

  // delivery, taxes, liabilities, disputes
  const delivery = text("交房日期", "terms.delivery_date", { type: "date", value: isoDate(60) });
  const regDays = text("备案后申请转移登记的期限（日）", "terms.registration_within_days",
    { type: "number", inputmode: "numeric", value: "30", min: "1", max: "180" });
  const taxes = select(TAX_BEARERS, "by_law");
  const late = text("逾期付款或交房，每日按成交价的万分之几支付违约金", "terms.late_payment_daily_permyriad",
    { type: "number", inputmode: "numeric", value: "5", min: "1", max: "50" });
  const termDays = text("逾期超过多少日，守约方可解除合同", "terms.termination_after_days",
    { type: "number", inputmode: "numeric", value: "30", min: "1", max: "365" });
  const disputeMethod = radios("dispute", DISPUTES, "arbitration");
  const institution = text("仲裁委员会或人民法院名称", "terms.dispute_resolution.institution", { value: "咸宁仲裁委员会" });
  disputeMethod.addEventListener("change", () => {
    const m = disputeMethod.querySelector("input:checked").value;
    if (m === "court" && institution.input.value.endsWith("仲裁委员会")) institution.input.value = "咸宁市咸安区人民法院";
    if (m === "arbitration" && institution.input.value.endsWith("人民法院")) institution.input.value = "咸宁仲裁委员会";
  });
  const extra = text("补充条款（可不填）", "terms.supplementary_terms", { multiline: true, maxlength: "2000" });

  const form = h("div",
    h("div.card", h("h2", "一、房屋基本情况"), kv([["坐落", unit.location.address], ["权证号", unit.certificate_no],
      ["建筑面积", `${unit.building_area} ㎡`], ["用途", unit.planned_use]])),
    h("div.card", h("h2", "二、出卖人"), h("p.muted", "请逐一填写全部登记权利人的完整信息，须与登记簿一致。"), sellers),
    h("div.card", h("h2", "三、买受人"), buyersBox,
      h("button.btn.secondary.small", { type: "button", onclick: addBuyer }, "添加买受人")),
    h("div.card", h("h2", "四、成交价与付款"), price, deposit,
      field("付款方式", method, { name: "terms.payment_method" }),
      h("h3", "付款安排"), h("div", { dataset: { field: "terms.payment_schedule" } }, rowsBox, sum),
      h("div.row2", h("button.btn.secondary.small", { type: "button", onclick: () => addRow("", 30) }, "添加一期"), removeRow)),
    h("div.card", h("h2", "五、资金监管"), custody, bank),
    h("div.card", h("h2", "六、抵押与带押过户"), transfer, lender, owed),
    h("div.card", h("h2", "七、交付与登记"), delivery, regDays,
      field("税费承担", taxes, { name: "terms.taxes_borne_by" })),
    h("div.card", h("h2", "八、违约责任"), late, termDays),
    h("div.card", h("h2", "九、争议解决"),
      h("fieldset.field", { dataset: { field: "terms.dispute_resolution.method" } }, h("legend.label", "解决方式"), disputeMethod),
      institution),
    h("div.card", h("h2", "十、补充条款"), extra));

  const collect = () => {
    const n = (w) => (w.input.value.trim() === "" ? null : Number(w.input.value));
    const terms = {
      price_fen: price.fen(),
      payment_method: method.value,
      payment_schedule: rows.map((r) => ({ due_date: r.due.input.value, amount_fen: r.amount.fen(),
        description: r.desc.input.value.trim() })),
      deposit_fen: deposit.fen() ?? 0,
      funds_custody: custody.querySelector("input").checked,
      delivery_date: delivery.input.value,
      taxes_borne_by: taxes.value,
      late_payment_daily_permyriad: n(late),
      termination_after_days: n(termDays),
      registration_within_days: n(regDays),
      dispute_resolution: { method: disputeMethod.querySelector("input:checked").value,
        institution: institution.input.value.trim() },
      supplementary_terms: extra.input.value.trim(),
    };
    if (terms.funds_custody) terms.custody_bank = bank.input.value.trim();
    if (transfer.querySelector("input").checked) {
      terms.mortgage_transfer = { lender: lender.input.value.trim(), outstanding_fen: owed.fen() };
    }
    return {
      kind: "resale", certificate_no: check.certificate_no, initiator_role: "seller",
      sellers: sellers.map((s) => s.value()),
      buyers: buyers.map((b) => {
        const v = b.value();
        if (buyers.length === 1) delete v.share;
        return v;
      }),
      terms,
    };
  };

  el.append(form, h("div.actions", button("提交合同草稿", async () => {
    const body = collect();
    if (body.terms.price_fen === null) {
      markFields(form, { fields: { "terms.price_fen": "请填写成交价（元）" } });
      toast("请填写成交价", true);
      return;
    }
    try {
      const contract = await post("/api/v1/contracts", body);
      toast("合同草稿已保存，请邀请对方签约");
      go(`c/${contract.id}/invite`);
    } catch (err) {
      markFields(form, err);
      throw err;
    }
  })));
}
