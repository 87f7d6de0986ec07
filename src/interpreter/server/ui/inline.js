// Markdown inline syntax (code spans, emphasis, strikethrough, links) rendered as DOM nodes.
// Text only ever becomes text nodes; links keep http(s)/mailto targets only, and images in
// model output become links: a page never fetches what the model names.

const PUNCTUATION = "\\`*_{}[]()#+-.!|~<>\"'$";
const SAFE_URL = /^(https?:\/\/|mailto:)[^\s]*$/i;
const BARE_URL = /^https?:\/\/[^\s<>()"']*[^\s<>()"'.,;:!?]/i;

function element(tag, className) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  return el;
}

function link(target, label) {
  if (!SAFE_URL.test(target)) return null;
  const a = element("a");
  a.href = target;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.append(label);
  return a;
}

// The index of a closing `delim` after `from` that is not preceded by whitespace, or -1.
function closer(text, from, delim) {
  let at = text.indexOf(delim, from);
  while (at >= 0) {
    if (at > from && !/\s/.test(text[at - 1]) && text[at - 1] !== "\\") return at;
    at = text.indexOf(delim, at + 1);
  }
  return -1;
}

// [label](target): returns {label, target, end} or null.
function bracketed(text, start) {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === "\\") { i += 1; continue; }
    if (text[i] === "[") depth += 1;
    if (text[i] === "]" && --depth === 0) {
      if (text[i + 1] !== "(") return null;
      const close = text.indexOf(")", i + 2);
      if (close < 0) return null;
      const target = text.slice(i + 2, close).trim().split(/\s+/)[0] || "";
      return { label: text.slice(start + 1, i), target, end: close + 1 };
    }
  }
  return null;
}

class InlineRenderer {
  constructor(text, parent) {
    this.text = text;
    this.parent = parent;
    this.plain = "";
  }

  flush() {
    if (this.plain) this.parent.append(this.plain);
    this.plain = "";
  }

  put(node) {
    this.flush();
    this.parent.append(node);
  }

  run() {
    const text = this.text;
    let i = 0;
    while (i < text.length) {
      const next = this.step(i);
      if (next > i) { i = next; continue; }
      this.plain += text[i];
      i += 1;
    }
    this.flush();
  }

  // Renders a construct at `i` and returns the index after it, or `i` when there is none.
  step(i) {
    const text = this.text;
    const c = text[i];
    if (c === "\\" && PUNCTUATION.includes(text[i + 1] || "")) {
      this.plain += text[i + 1];
      return i + 2;
    }
    if (c === "\n") { this.put(element("br")); return i + 1; }
    if (c === "`") return this.codeSpan(i);
    if (c === "*" || c === "_") return this.emphasis(i);
    if (c === "~" && text[i + 1] === "~") return this.wrapped(i, "~~", "del");
    if (c === "[") return this.link(i, i, false);
    if (c === "!" && text[i + 1] === "[") return this.link(i, i + 1, true);
    if (c === "<") return this.autolink(i);
    if ((c === "h" || c === "H") && !/\w/.test(text[i - 1] || "")) return this.bareUrl(i);
    return i;
  }

  codeSpan(i) {
    const run = /^`+/.exec(this.text.slice(i))[0];
    const close = this.text.indexOf(run, i + run.length);
    if (close < 0) { this.plain += run; return i + run.length; }
    let inner = this.text.slice(i + run.length, close).replace(/\n/g, " ");
    if (/^ .* $/.test(inner) && inner.trim()) inner = inner.slice(1, -1);
    const code = element("code");
    code.textContent = inner;
    this.put(code);
    return close + run.length;
  }

  emphasis(i) {
    const text = this.text;
    const c = text[i];
    if (c === "_" && /\w/.test(text[i - 1] || "")) return i; // snake_case stays text
    const double = text[i + 1] === c;
    const delim = double ? c + c : c;
    if (/\s/.test(text[i + delim.length] || " ")) return i;
    return this.wrapped(i, delim, double ? "strong" : "em");
  }

  wrapped(i, delim, tag) {
    const close = closer(this.text, i + delim.length, delim);
    if (close < 0) return i;
    if (delim === "_" && /\w/.test(this.text[close + 1] || "")) return i;
    const el = element(tag);
    renderInline(this.text.slice(i + delim.length, close), el);
    this.put(el);
    return close + delim.length;
  }

  link(start, bracket, image) {
    const found = bracketed(this.text, bracket);
    if (!found) return start;
    const label = image ? `image: ${found.label || found.target}` : found.label;
    const holder = element("span");
    renderInline(label, holder);
    const a = link(found.target, holder);
    if (a === null) { this.put(holder); return found.end; }
    this.put(a);
    return found.end;
  }

  autolink(i) {
    const close = this.text.indexOf(">", i);
    const target = close > 0 ? this.text.slice(i + 1, close) : "";
    const a = SAFE_URL.test(target) ? link(target, target) : null;
    if (a === null) return i;
    this.put(a);
    return close + 1;
  }

  bareUrl(i) {
    const found = BARE_URL.exec(this.text.slice(i, i + 2048));
    if (!found) return i;
    this.put(link(found[0], found[0]));
    return i + found[0].length;
  }
}

// Appends `text`'s inline Markdown to `parent` as DOM nodes.
export function renderInline(text, parent) {
  new InlineRenderer(String(text), parent).run();
}
