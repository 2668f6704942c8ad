// Evaluated in each page by the browser tests: the rules every portal page keeps.
// Returns the broken ones; an empty list means the page is fine.
() => {
  const problems = [];
  const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { return c.slice(0, 3); }
    }
    return [255, 255, 255];
  };
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  if (!["en", "de"].includes(document.documentElement.lang)) { problems.push("html lang"); }
  if (document.querySelectorAll("h1").length !== 1) { problems.push("one h1"); }
  if (document.querySelector("[style]")) { problems.push("inline style attribute"); }
  for (const s of document.querySelectorAll("script")) {
    if (!s.src) { problems.push("inline script"); }
  }
  for (const el of document.querySelectorAll("style")) { problems.push("style element"); }
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!el.labels || el.labels.length === 0) { problems.push("no label: " + (el.id || el.name)); }
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) { problems.push("img without alt"); }
  }
  for (const form of document.querySelectorAll("form")) {
    if (form.method === "post" && !form.querySelector("input[name=csrf]")) {
      problems.push("form without csrf: " + form.action);
    }
  }
  const texts = "h1, h2, h3, p, label, legend, dt, dd, th, td, a, button, .badge, li > span";
  for (const el of document.querySelectorAll(texts)) {
    if (!visible(el) || !el.textContent.trim()) { continue; }
    const style = getComputedStyle(el);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    const got = ratio(rgb(style.color).slice(0, 3), background(el));
    if (got < need) { problems.push(`contrast ${got.toFixed(2)} < ${need}: ${el.tagName} ${el.textContent.trim().slice(0, 40)}`); }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    problems.push(`horizontal scroll: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  }
  return problems;
}
