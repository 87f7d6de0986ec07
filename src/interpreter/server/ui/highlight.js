// Syntax highlighting, one line at a time: a small tokenizer per language family that
// carries open strings and block comments from line to line. Output is DOM nodes built
// with textContent; nothing is parsed as HTML.

const words = (text) => new Set(text.split(" "));

const PYTHON = {
  keywords: words("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case"),
  comment: "#", strings: ['"""', "'''", '"', "'"], multiline: ['"""', "'''"],
};
const JAVASCRIPT = {
  keywords: words("async await break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield interface type enum implements"),
  comment: "//", block: ["/*", "*/"], strings: ["`", '"', "'"], multiline: ["`"],
};
const SHELL = {
  keywords: words("if then else elif fi for while until do done case esac in function return export local set unset echo cd exit source alias read shift trap"),
  comment: "#", strings: ['"', "'"], multiline: [], variables: true, commentAtWordStart: true,
};
const RUBY = {
  keywords: words("alias and begin break case class def defined do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true undef unless until when while yield puts require"),
  comment: "#", strings: ['"', "'"], multiline: [],
};
const R = {
  keywords: words("if else repeat while function for in next break TRUE FALSE NULL Inf NaN NA library return"),
  comment: "#", strings: ['"', "'"], multiline: [],
};
const C_LIKE = {
  keywords: words("auto break case char const continue default do double else enum extern float for goto if int long register return short signed sizeof static struct switch typedef union unsigned void volatile while class public private protected new delete try catch throw true false null package import final boolean fn let mut impl pub use match mod trait where"),
  comment: "//", block: ["/*", "*/"], strings: ['"', "'"], multiline: [],
};
const SQL = {
  keywords: words("select from where and or not insert into values update set delete create table drop alter join left right inner outer on group by order having limit as distinct null is in like union all primary key"),
  comment: "--", strings: ["'", '"'], multiline: [], caseless: true,
};
const PLAIN = { keywords: new Set(), comment: null, strings: [], multiline: [] };

const LANGUAGES = {
  python: PYTHON, py: PYTHON, javascript: JAVASCRIPT, js: JAVASCRIPT, typescript: JAVASCRIPT,
  ts: JAVASCRIPT, json: JAVASCRIPT, jsx: JAVASCRIPT, tsx: JAVASCRIPT, shell: SHELL, bash: SHELL,
  sh: SHELL, zsh: SHELL, console: SHELL, powershell: SHELL, ruby: RUBY, rb: RUBY, r: R,
  c: C_LIKE, cpp: C_LIKE, java: C_LIKE, go: C_LIKE, rust: C_LIKE, csharp: C_LIKE, sql: SQL,
};

const IDENT = /[A-Za-z_$][\w$]*/y;
const NUMBER = /(0x[\da-fA-F]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)/y;
const TAG = /<\/?[A-Za-z][\w:-]*|\/?>/y;
const ATTR = /[A-Za-z_:][\w:.-]*(?==)/y;

function span(fragment, kind, text) {
  if (!text) return;
  if (!kind) {
    fragment.append(text);
    return;
  }
  const el = document.createElement("span");
  el.className = "tok-" + kind;
  el.textContent = text;
  fragment.append(el);
}

function match(re, text, at) {
  re.lastIndex = at;
  const found = re.exec(text);
  return found ? found[0] : null;
}

// The index after the closing `delim` (skipping backslash escapes), or -1 when it stays open.
function closing(text, from, delim, escapes) {
  let i = from;
  while (i < text.length) {
    if (escapes && text[i] === "\\") { i += 2; continue; }
    if (text.startsWith(delim, i)) return i + delim.length;
    i += 1;
  }
  return -1;
}

class LineHighlighter {
  constructor(spec) {
    this.spec = spec;
    this.open = null; // {kind: "str"|"com", end: delimiter} carried to the next line
  }

  line(text) {
    const fragment = document.createDocumentFragment();
    let i = this.resume(text, fragment);
    let plain = "";
    const flush = () => { span(fragment, null, plain); plain = ""; };
    while (i < text.length) {
      const step = this.token(text, i);
      if (step === null || !step.kind) {
        const end = step === null ? i + 1 : step.end;
        plain += text.slice(i, end);
        i = end;
        continue;
      }
      flush();
      span(fragment, step.kind, text.slice(i, step.end));
      i = step.end;
    }
    flush();
    return fragment;
  }

  resume(text, fragment) {
    if (!this.open) return 0;
    const end = closing(text, 0, this.open.end, this.open.kind === "str");
    if (end < 0) {
      span(fragment, this.open.kind, text);
      return text.length;
    }
    span(fragment, this.open.kind, text.slice(0, end));
    this.open = null;
    return end;
  }

  token(text, i) {
    const spec = this.spec;
    const prev = i > 0 ? text[i - 1] : " ";
    if (spec.comment && text.startsWith(spec.comment, i) && (!spec.commentAtWordStart || /\s/.test(prev))) {
      return { kind: "com", end: text.length };
    }
    if (spec.block && text.startsWith(spec.block[0], i)) {
      const end = closing(text, i + 2, spec.block[1], false);
      if (end < 0) this.open = { kind: "com", end: spec.block[1] };
      return { kind: "com", end: end < 0 ? text.length : end };
    }
    const quote = spec.strings.find((q) => text.startsWith(q, i));
    if (quote) return this.string(text, i, quote);
    if (spec.variables && text[i] === "$") {
      const name = match(/\$(\{[^}]*\}|[\w@#?$!*-])[\w]*/y, text, i);
      if (name) return { kind: "var", end: i + name.length };
    }
    if (/\d/.test(text[i]) && !/[\w$]/.test(prev)) {
      const num = match(NUMBER, text, i);
      if (num) return { kind: "num", end: i + num.length };
    }
    if (/[A-Za-z_$]/.test(text[i]) && !/[\w$]/.test(prev)) return this.word(text, i);
    return null;
  }

  string(text, i, quote) {
    const end = closing(text, i + quote.length, quote, true);
    if (end >= 0) return { kind: "str", end };
    if (this.spec.multiline.includes(quote)) this.open = { kind: "str", end: quote };
    return { kind: "str", end: text.length };
  }

  word(text, i) {
    const word = match(IDENT, text, i);
    const key = this.spec.caseless ? word.toLowerCase() : word;
    if (this.spec.keywords.has(key)) return { kind: "kw", end: i + word.length };
    const after = text.slice(i + word.length).match(/^\s*\(/);
    return { kind: after ? "fn" : null, end: i + word.length };
  }
}

class MarkupHighlighter {
  constructor() { this.inComment = false; }

  line(text) {
    const fragment = document.createDocumentFragment();
    let i = 0;
    let plain = "";
    const flush = () => { span(fragment, null, plain); plain = ""; };
    while (i < text.length) {
      if (this.inComment || text.startsWith("<!--", i)) {
        const end = closing(text, this.inComment ? i : i + 4, "-->", false);
        flush();
        span(fragment, "com", text.slice(i, end < 0 ? text.length : end));
        this.inComment = end < 0;
        i = end < 0 ? text.length : end;
        continue;
      }
      const tag = match(TAG, text, i) || match(ATTR, text, i);
      const quote = text[i] === '"' || text[i] === "'" ? closing(text, i + 1, text[i], false) : -1;
      if (tag || quote > 0) {
        flush();
        const end = tag ? i + tag.length : quote;
        span(fragment, tag ? (tag.startsWith("<") || tag.endsWith(">") ? "tag" : "attr") : "str", text.slice(i, end));
        i = end;
        continue;
      }
      plain += text[i];
      i += 1;
    }
    flush();
    return fragment;
  }
}

// A highlighter for `language`: `.line(text)` returns a DocumentFragment for one line.
export function highlighter(language) {
  const name = String(language || "").toLowerCase().trim();
  if (["html", "xml", "svg", "vue"].includes(name)) return new MarkupHighlighter();
  return new LineHighlighter(LANGUAGES[name] || PLAIN);
}
