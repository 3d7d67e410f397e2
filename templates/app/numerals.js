// Capital numerals (大写金额) for amounts in fen: the same rules as signing/numerals.py
// (中国人民银行《支付结算办法》附件一), so what the form shows is what the contract prints.
// BigInt is not needed: the largest amount (10**12 fen) is far below 2**53.

const DIGITS = "零壹贰叁肆伍陆柒捌玖";
const POSITIONS = ["", "拾", "佰", "仟"];
const GROUPS = ["", "万", "亿"];
const MAX_YUAN = 10 ** 12 - 1;

function integerWords(number) {
  const groups = [];
  while (number > 0) {
    groups.push(number % 10000);
    number = Math.floor(number / 10000);
  }
  const out = [];
  let zeroPending = false;
  for (let index = groups.length - 1; index >= 0; index--) {
    const group = groups[index];
    if (group === 0) {
      zeroPending = true;
      continue;
    }
    for (let pos = 3; pos >= 0; pos--) {
      const digit = Math.floor(group / 10 ** pos) % 10;
      if (digit === 0) {
        if (out.length) zeroPending = true;
        continue;
      }
      if (zeroPending) {
        out.push(DIGITS[0]);
        zeroPending = false;
      }
      out.push(DIGITS[digit] + POSITIONS[pos]);
    }
    zeroPending = false;
    out.push(GROUPS[index]);
  }
  return out.join("");
}

/** 123456700 → 壹佰贰拾叁万肆仟伍佰陆拾柒元整; throws RangeError like the Python raises. */
export function capitalAmount(fen) {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError("amount in fen: a non-negative integer");
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  const jiao = Math.floor(cents / 10);
  const fenDigit = cents % 10;
  if (yuan > MAX_YUAN) throw new RangeError("amount too large");
  if (fen === 0) return "零元整";
  const parts = [];
  if (yuan) parts.push(integerWords(yuan) + "元");
  if (jiao) parts.push(DIGITS[jiao] + "角");
  if (fenDigit) {
    if (yuan && !jiao) parts.push("零");
    parts.push(DIGITS[fenDigit] + "分");
  }
  if (!jiao && !fenDigit) parts.push("整");
  return parts.join("");
}

/** "1234567.8" (yuan as typed) → 123456780 fen; null when it is not an amount. No floats. */
export function parseYuan(text) {
  const s = String(text ?? "").trim().replace(/[,，\s]/g, "");
  const m = /^(\d{1,10})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
}

/** 123456700 → "1,234,567.00" (figures, as in the contract). */
export function figuresAmount(fen) {
  const yuan = Math.floor(fen / 100).toLocaleString("en-US");
  return `${yuan}.${String(fen % 100).padStart(2, "0")}`;
}

/** Fen → the yuan text an input shows: 123456700 → "1234567", 150 → "1.5". */
export function yuanText(fen) {
  const cents = fen % 100;
  const yuan = String(Math.floor(fen / 100));
  if (!cents) return yuan;
  return `${yuan}.${String(cents).padStart(2, "0")}`.replace(/0$/, "");
}
