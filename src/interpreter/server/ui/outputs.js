// What the computer shows besides code: console text, images and HTML pages.
// HTML goes into an <iframe sandbox srcdoc>: an opaque origin where nothing runs and which
// inherits the page's CSP (no network); it never touches the page's own document.

import { schedule } from "./frames.js";

const IMAGE_TYPES = {
  "base64.png": "image/png", "base64.jpeg": "image/jpeg", "base64.jpg": "image/jpeg",
  "base64.gif": "image/gif", "base64.webp": "image/webp", "base64.svg": "image/svg+xml",
};
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// Console output, appended as it streams (one text node, extended once per frame). The
// block takes its place in the transcript at once but shows up with its first text.
export class ConsoleView {
  constructor(parent) {
    this.element = document.createElement("pre");
    this.element.className = "console";
    this.text = document.createTextNode("");
    this.element.append(this.text);
    this.placeholder = document.createComment("console");
    parent.append(this.placeholder);
    this.queued = "";
  }

  append(text) {
    this.queued += text;
    schedule(this);
  }

  flush() {
    if (!this.queued) return;
    if (this.placeholder) { this.placeholder.replaceWith(this.element); this.placeholder = null; }
    const stick = this.element.scrollTop + this.element.clientHeight >= this.element.scrollHeight - 4;
    this.text.appendData(this.queued);
    this.queued = "";
    if (stick) this.element.scrollTop = this.element.scrollHeight;
  }

  finish() {
    this.flush();
    if (this.placeholder) this.placeholder.remove();
  }
}

// An image output (base64 data of an allowed image type), else a line naming it.
export function showImage(parent, format, content) {
  const box = document.createElement("div");
  box.className = "output-image";
  const mime = IMAGE_TYPES[String(format)];
  const data = String(content || "").replace(/\s+/g, "");
  if (mime && data && BASE64.test(data)) {
    const img = document.createElement("img");
    img.alt = "image output";
    img.decoding = "async";
    img.src = `data:${mime};base64,${data}`;
    box.append(img);
  } else {
    box.className = "notice";
    box.textContent = `image output (${String(format)}): ${data.slice(0, 200)}`;
  }
  parent.append(box);
  return box;
}

// An HTML output, shown in a sandboxed frame (no scripts, no same-origin, no network).
export function showHtml(parent, html) {
  const box = document.createElement("div");
  box.className = "output-html";
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.title = "HTML output";
  frame.srcdoc = String(html);
  box.append(frame);
  parent.append(box);
  return box;
}
