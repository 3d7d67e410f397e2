// The handwritten signature pad: pointer strokes on a canvas at the device's pixel density,
// clear and redo, exported as the base64 PNG that POST /contracts/{id}/signatures takes.

import { h } from "./ui.js";

export function signaturePad() {
  const canvas = h("canvas.pad", { role: "img", "aria-label": "手写签名区域，请用手指签写姓名" });
  const ctx = canvas.getContext("2d");
  let inked = 0;
  let last = null;
  let sized = false;

  const size = () => {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width * ratio));
    canvas.height = Math.max(1, Math.round(rect.height * ratio));
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 3.2;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#121218";
    inked = 0;
    sized = true;
  };
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (!sized) size();
    canvas.setPointerCapture(e.pointerId);
    last = point(e);
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = point(e);
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    inked += Math.hypot(p[0] - last[0], p[1] - last[1]);
    last = p;
    e.preventDefault();
  });
  const end = () => { last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  // Sized once it is in the document (its CSS box is known then).
  requestAnimationFrame(() => { if (canvas.isConnected) size(); });

  return {
    element: canvas,
    clear: size,
    /** Enough ink for a signature (a tap or a dot is not one). */
    get signed() { return inked > 40; },
    /** The PNG as base64, without the data: prefix. */
    png() { return canvas.toDataURL("image/png").split(",", 2)[1]; },
  };
}
