// Face verification (人脸核身). The backend starts it and later asks the provider for the result
// itself; the phone only does the scan. In development the sandbox's scan screen below stands
// in for the provider's face page; with a real provider whose client_payload carries an H5
// page (url), the browser goes there and comes back to the same screen, which resumes.

import { post } from "./api.js";
import { config, currentRoute } from "./app.js";
import { button, h, radios } from "./ui.js";

const PENDING = "hs.face";

const REASONS = {
  low_similarity: "人脸与身份证照片相似度不足，请在光线充足处正对镜头重试",
  id_name_mismatch: "姓名与身份证号码不一致，请核对后重新填写",
  no_identity_record: "未查询到该身份信息，请核对后重新填写",
  liveness_failed: "活体检测未通过，请按提示眨眼、张嘴后重试",
  token_expired: "本次核验已超时，请重新开始",
  token_invalid: "本次核验无效，请重新开始",
  retry_limit: "尝试次数过多，请稍后再试",
  cancelled: "您已取消人脸核身",
  identity_mismatch: "核验结果与本人身份不一致",
  provider_refused: "核验服务拒绝了本次请求，请稍后再试",
};

export function reasonText(code) {
  return REASONS[code] || "人脸核身未通过，请重试";
}

const PURPOSES = { bind_identity: "实名认证", sign: "签署合同", revoke: "注销备案" };

/** A passed verification result (its id is what /signatures and /revocation take). */
export async function faceVerify(request) {
  const resumed = await resume(request);
  if (resumed) return resumed;
  for (;;) {
    const started = await post("/api/v1/face-verifications", { consent: true, ...request });
    const payload = started.client_payload || {};
    if (payload.url) {
      sessionStorage.setItem(PENDING, JSON.stringify({ id: started.id, route: currentRoute(),
        purpose: request.purpose }));
      location.assign(payload.url);
      return new Promise(() => {}); // the page is leaving
    }
    if (!config.sandbox || started.provider !== "sandbox") {
      throw Object.assign(new Error("请在政务服务 App 或小程序内完成人脸核身"), { code: "face_unavailable" });
    }
    const result = await sandboxScan(started, request.purpose);
    if (result === null) throw Object.assign(new Error("已取消人脸核身"), { code: "face_cancelled" });
    if (result.status === "passed") return result;
    const again = await failed(result);
    if (!again) throw Object.assign(new Error(reasonText(result.reason_code)), { code: "face_failed" });
  }
}

async function resume(request) {
  const raw = sessionStorage.getItem(PENDING);
  if (!raw) return null;
  sessionStorage.removeItem(PENDING);
  const pending = JSON.parse(raw);
  if (pending.route !== currentRoute() || pending.purpose !== request.purpose) return null;
  const result = await post(`/api/v1/face-verifications/${encodeURIComponent(pending.id)}/complete`);
  return result.status === "passed" ? result : null;
}

/** Whether a verification came back from the provider's page for this screen. */
export function hasPending(purpose) {
  try {
    const p = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    return !!p && p.route === currentRoute() && p.purpose === purpose;
  } catch { return false; }
}

function overlay(...children) {
  const el = h("div.overlay", { role: "dialog", "aria-modal": "true", "aria-label": "人脸核身" },
    h("header.bar", h("h1", "人脸核身")), h("div.page", ...children));
  document.body.append(el);
  return el;
}

const OUTCOMES = { pass: "本人正常刷脸（通过）", low_similarity: "相似度不足", id_mismatch: "姓名与证号不符",
  liveness_fail: "活体检测失败" };

function sandboxScan(started, purpose) {
  return new Promise((resolve) => {
    const who = started.identity || {};
    const choice = radios("outcome", OUTCOMES, "pass");
    const el = overlay(
      h("div.card.face",
        h("p.sandbox-note", "开发环境：此页面代替人脸核身服务商的刷脸页面，选择要模拟的结果。"),
        h("div.ring", { "aria-hidden": "true" }, "☺"),
        h("p.big", PURPOSES[purpose] || "人脸核身"),
        h("p.muted", `核验对象：${who.name_masked || ""} ${who.id_number_masked || ""}`),
        h("p.muted", "请正对手机，确保光线充足，按提示完成动作。人脸图像仅用于本次核验，不会被保存。")),
      h("div.card", h("fieldset.field", h("legend.label", "模拟结果"), choice)),
      button("开始刷脸", async () => {
        const outcome = choice.querySelector("input:checked").value;
        await post("/sandbox/faceid/scan", { biz_token: started.client_payload.biz_token, outcome });
        const result = await post(`/api/v1/face-verifications/${encodeURIComponent(started.id)}/complete`);
        el.remove();
        resolve(result);
      }),
      button("取消", () => { el.remove(); resolve(null); }, "secondary"));
  });
}

function failed(result) {
  return new Promise((resolve) => {
    const el = overlay(
      h("div.result.bad", h("span.big", "核验未通过"), h("p", reasonText(result.reason_code))),
      button("重新核验", () => { el.remove(); resolve(true); }),
      button("返回", () => { el.remove(); resolve(false); }, "secondary"));
  });
}
