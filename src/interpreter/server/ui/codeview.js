// A code block that grows line by line: finished lines are highlighted once and appended;
// the line still being written is plain text until its newline arrives.

import { schedule } from "./frames.js";
import { highlighter } from "./highlight.js";

const LINES_PER_FRAME = 2000;

export class CodeView {
  constructor(parent, language) {
    this.language = String(language || "");
    this.element = document.createElement("div");
    this.element.className = "code-block";
    if (this.language) {
      const label = document.createElement("div");
      label.className = "lang";
      label.textContent = this.language;
      this.element.append(label);
    }
    this.pre = document.createElement("pre");
    this.code = document.createElement("code");
    this.pre.append(this.code);
    this.element.append(this.pre);
    parent.append(this.element);
    this.reset();
  }

  reset() {
    this.code.replaceChildren();
    this.highlight = highlighter(this.language);
    this.tail = document.createTextNode("");
    this.code.append(this.tail);
    this.text = ""; // everything added so far
    this.queued = "";
    this.partial = "";
  }

  // Streams `text` in; the DOM catches up in the next frame.
  append(text) {
    this.text += text;
    this.queued += text;
    schedule(this);
  }

  flush() {
    const lines = (this.partial + this.queued).split("\n");
    this.queued = "";
    this.partial = lines.pop();
    if (lines.length > LINES_PER_FRAME) {
      this.queued = lines.splice(LINES_PER_FRAME).join("\n") + "\n" + this.partial;
      this.partial = "";
      schedule(this);
    }
    for (const line of lines) this.addLine(line);
    this.tail.data = this.partial;
  }

  // One finished line, highlighted (used directly by the Markdown renderer's fences).
  addLine(line) {
    const fragment = this.highlight.line(line);
    fragment.append("\n");
    this.code.insertBefore(fragment, this.tail);
  }

  setTail(text) {
    this.tail.data = text;
  }

  // Ends the stream: the last line is highlighted too.
  finish() {
    while (this.queued) this.flush();
    if (this.partial) {
      this.tail.data = "";
      this.addLine(this.partial);
      this.partial = "";
    }
  }

  // Replaces the whole code (the authoritative text of a confirmation, or a saved message).
  setCode(text) {
    const code = String(text);
    this.reset();
    this.text = code;
    const lines = code.split("\n");
    const last = lines.pop();
    for (const line of lines) this.addLine(line);
    if (last) this.addLine(last);
    // drop the newline the last line's fragment added when the code has none at the end
    if (last && this.tail.previousSibling) {
      const node = this.tail.previousSibling;
      if (node.nodeType === Node.TEXT_NODE && node.data === "\n") node.remove();
    }
  }
}
