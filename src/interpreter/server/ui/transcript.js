// The conversation on screen: LMC chunks (streamed, framed with start/end) or saved LMC
// messages become views: Markdown text, code blocks (with Approve / Edit / Decline when
// the server asks), console output, images and sandboxed HTML.

import { CodeView } from "./codeview.js";
import { afterEachFrame } from "./frames.js";
import { MarkdownStream, renderMarkdown } from "./markdown.js";
import { ConsoleView, showHtml, showImage } from "./outputs.js";

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

const keyOf = (chunk) => `${chunk.role}/${chunk.type}/${chunk.type === "console" ? "" : chunk.format || ""}`;

export class Transcript {
  // `approval` gets {go(hash), edit(code), decline(hash)} calls from the buttons.
  constructor(element_, approval) {
    this.element = element_;
    this.approval = approval;
    this.view = null; // the block being streamed: {key, add, finish}
    this.unconfirmed = []; // code blocks of this reply not yet asked about, in order
    this.stickToBottom = true;
    this.element.addEventListener("scroll", () => {
      const el = this.element;
      this.stickToBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
    });
    afterEachFrame(() => this.scroll());
  }

  scroll() {
    if (this.stickToBottom) this.element.scrollTop = this.element.scrollHeight;
  }

  clear() {
    this.element.replaceChildren();
    this.view = null;
    this.unconfirmed = [];
    this.stickToBottom = true;
  }

  user(text) {
    this.endBlock();
    this.unconfirmed = [];
    this.element.append(element("div", "turn-user", text));
    this.stickToBottom = true;
    this.scroll();
  }

  notice(text, className = "notice") {
    this.endBlock();
    this.element.append(element("div", className, text));
    this.scroll();
  }

  error(text) {
    this.notice(text, "error");
  }

  // -- streamed chunks ---------------------------------------------------------------------

  chunk(chunk) {
    if (chunk.type === "confirmation") { this.endBlock(); this.confirm(chunk.content || {}); return; }
    if (chunk.start) { this.endBlock(); this.view = this.open(chunk); return; }
    if (chunk.end) { this.endBlock(); return; }
    if (!("content" in chunk)) return;
    if (chunk.type === "console" && chunk.format === "active_line") return;
    if (!this.view || this.view.key !== keyOf(chunk)) { this.endBlock(); this.view = this.open(chunk); }
    this.view.add(chunk);
  }

  endBlock() {
    if (this.view) this.view.finish();
    this.view = null;
  }

  open(chunk) {
    const key = keyOf(chunk);
    const { role, type, format } = chunk;
    if (type === "message" && role === "assistant") {
      const md = new MarkdownStream(this.element);
      return { key, add: (c) => md.append(String(c.content)), finish: () => md.finish() };
    }
    if (type === "message") {
      const box = element("div", "turn-user", "");
      this.element.append(box);
      return { key, add: (c) => box.append(String(c.content)), finish() {} };
    }
    if (type === "code" && role === "assistant") {
      const code = new CodeView(this.element, format);
      this.unconfirmed.push(code);
      return { key, add: (c) => code.append(String(c.content)), finish: () => code.finish() };
    }
    if (type === "console") {
      const out = new ConsoleView(this.element);
      return { key, add: (c) => { if (c.format !== "active_line") out.append(String(c.content)); }, finish: () => out.finish() };
    }
    return { key, add: (c) => this.output(c), finish() {} };
  }

  // A whole (non-streamed) output: an image, an HTML page, other code (never run here).
  output(chunk) {
    const { type, format, content } = chunk;
    if (type === "image") { showImage(this.element, format, content); return; }
    if (type === "code" && format === "html") { showHtml(this.element, content); return; }
    if (type === "code") { new CodeView(this.element, format).setCode(content); return; }
    const text = typeof content === "string" ? content : JSON.stringify(content);
    this.element.append(element("pre", "console", text));
  }

  // -- approval ------------------------------------------------------------------------------

  // The confirmation belongs to the first code block of the reply not yet asked about
  // (blocks are asked about in order); its code is what the hash is of.
  confirm(content) {
    const code = String(content.content ?? "");
    const at = this.unconfirmed.findIndex((v) => v.text === code);
    const taken = this.unconfirmed.splice(0, at >= 0 ? at + 1 : 1);
    let view = taken[taken.length - 1];
    if (!view) view = new CodeView(this.element, content.format);
    view.setCode(code); // what would run
    const bar = element("div", "approval");
    view.approvalBar = bar;
    if (content.note || (content.findings && content.findings.length)) {
      const findings = [content.note, ...(content.findings || []).map((f) => "• " + (f.message || JSON.stringify(f)))];
      view.element.append(element("div", "findings", findings.filter(Boolean).join("\n")));
    }
    bar.append(element("span", "question", "Run this code?"));
    const approve = element("button", "primary", "Approve");
    const edit = element("button", "", "Edit");
    const decline = element("button", "danger", "Decline");
    for (const b of [approve, edit, decline]) b.type = "button";
    bar.append(approve, edit, decline);
    view.element.append(bar);
    const hash = String(content.hash || "");
    approve.addEventListener("click", () => { this.decided(bar, "ran", "Approved"); this.approval.go(hash); });
    decline.addEventListener("click", () => { this.decided(bar, "declined", "Declined"); this.approval.decline(hash); });
    edit.addEventListener("click", () => this.editCode(view, bar));
    this.pendingBar = bar;
    this.scroll();
  }

  editCode(view, bar) {
    const editor = element("textarea", "editor");
    editor.value = view.text;
    editor.spellcheck = false;
    editor.setAttribute("aria-label", "Edit the code");
    editor.rows = Math.min(24, Math.max(4, view.text.split("\n").length + 1));
    view.pre.replaceWith(editor);
    bar.replaceChildren(element("span", "question", "Run the edited code?"));
    const run = element("button", "primary", "Run edited");
    const decline = element("button", "danger", "Decline");
    run.type = decline.type = "button";
    bar.append(run, decline);
    editor.focus();
    run.addEventListener("click", () => {
      const code = editor.value;
      view.setCode(code);
      editor.replaceWith(view.pre);
      this.decided(bar, "ran", "Approved (edited)");
      this.approval.edit(code);
    });
    decline.addEventListener("click", () => {
      editor.replaceWith(view.pre);
      this.decided(bar, "declined", "Declined");
      this.approval.decline("");
    });
  }

  decided(bar, kind, text) {
    bar.className = "approval done";
    bar.replaceChildren(element("span", `verdict ${kind}`, text));
    if (this.pendingBar === bar) this.pendingBar = null;
  }

  // Pending code was declined elsewhere (a new message, a stop): the buttons go.
  dropPending(text = "Declined") {
    if (this.pendingBar) this.decided(this.pendingBar, "declined", text);
  }

  // -- saved conversations -------------------------------------------------------------------

  load(messages) {
    this.clear();
    for (const message of messages) this.message(message);
    this.scroll();
  }

  message(message) {
    const { role, type, content } = message;
    if (role === "user" && type === "message") { this.user(String(content)); return; }
    if (role === "assistant" && type === "message") { renderMarkdown(this.element, content); return; }
    if (role === "assistant" && type === "code") {
      new CodeView(this.element, message.format).setCode(content);
      return;
    }
    if (type === "console") {
      if (message.format === "active_line" || !content) return;
      this.element.append(element("pre", "console", String(content)));
      return;
    }
    this.output(message);
  }
}
