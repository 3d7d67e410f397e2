// Run in the page by test_h5_sale.py: what a phone user would trip over on this screen —
// horizontal scroll, inputs without a label, tap targets under 44 px.
(() => {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > window.innerWidth) out.push(`horizontal scroll ${de.scrollWidth}>${window.innerWidth}`);
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
    getComputedStyle(el).visibility !== 'hidden'; };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
    `[${(el.textContent || el.name || el.getAttribute('aria-label') || '').trim().slice(0, 20)}]`;
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (!visible(el) && !(el.type === 'checkbox' || el.type === 'radio')) continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) out.push('no label: ' + name(el));
  }
  const targets = document.querySelectorAll('button, a, select, input, textarea, label.check, .radios label');
  for (const el of targets) {
    if (!visible(el)) continue;
    let box = el;
    // A checkbox, radio or (visually hidden) file input is tapped through its label.
    if (el.tagName === 'INPUT' && ['checkbox', 'radio', 'file'].includes(el.type)) {
      box = el.closest('label') || (el.labels && el.labels[0]) || el;
    }
    const r = box.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) {
      out.push(`small target ${Math.round(r.width)}x${Math.round(r.height)}: ` + name(el));
    }
  }
  return out;
})
