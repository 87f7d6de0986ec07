// Streamed Markdown, rendered incrementally and safely.
//
// Text arrives in pieces (`append`); once per animation frame the finished lines go through
// a small block parser (paragraphs, headings, fenced code, lists, quotes, tables, rules).
// Finished blocks are built once and never touched again; only the block still open (a
// paragraph or list item being written) is rebuilt, so a long reply costs about the same
// per frame at its end as at its start. Everything becomes DOM nodes via textContent.

import { CodeView } from "./codeview.js";
import { schedule } from "./frames.js";
import { renderInline } from "./inline.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
const TABLE_RULE = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const CHARS_PER_FRAME = 16 * 1024;
const BLOCKS_PER_SEGMENT = 24; // finished segments off screen are skipped by layout and paint

function element(tag, className) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  return el;
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => cell.trim());
}

function indentOf(text) {
  return text.replace(/\t/g, "    ").length;
}

export class MarkdownStream {
  constructor(parent) {
    this.element = element("div", "msg");
    parent.append(this.element);
    this.queued = "";
    this.partial = ""; // the line still being written
    this.block = null; // the open block: {kind, lines, el, ...}
    this.fence = null; // an open fenced code block: {view, marker}
    this.lists = []; // open lists, outermost first: {indent, el, item}
    this.tail = null; // shows a partial line that belongs to no open block yet
    this.segment = null; // the container new blocks go into
    this.blocks = 0; // blocks in the current segment
    this.finishing = false;
  }

  append(text) {
    this.queued += text;
    schedule(this);
  }

  // The stream is over: the rest is rendered in the next frames (or at once with `now`).
  finish(now = false) {
    this.finishing = true;
    if (!now) { schedule(this); return; }
    while (this.queued) this.flush();
    this.finalize();
  }

  finalize() {
    if (this.finalized) return;
    this.finalized = true;
    if (this.partial) this.line(this.partial);
    this.partial = "";
    this.close();
    this.closeFence();
    this.setTail("");
  }

  flush() {
    let input = this.queued;
    this.queued = "";
    if (input.length > CHARS_PER_FRAME) {
      const cut = input.lastIndexOf("\n", CHARS_PER_FRAME);
      const at = cut > 0 ? cut + 1 : CHARS_PER_FRAME;
      this.queued = input.slice(at);
      input = input.slice(0, at);
      schedule(this);
    }
    const lines = (this.partial + input).split("\n");
    this.partial = lines.pop();
    for (const line of lines) this.line(line);
    if (this.finishing && !this.queued) this.finalize();
    else this.refresh();
  }

  // Adds a top-level block element (in segments of BLOCKS_PER_SEGMENT).
  put(el) {
    if (!this.segment || this.blocks >= BLOCKS_PER_SEGMENT) {
      this.segment = element("div", "segment");
      this.element.append(this.segment);
      this.blocks = 0;
    }
    this.blocks += 1;
    this.segment.append(el);
  }

  // -- finished lines --------------------------------------------------------------------

  line(text) {
    if (this.fence) { this.fenceLine(text); return; }
    const fence = FENCE.exec(text);
    if (fence) { this.openFence(fence[1], fence[2]); return; }
    if (!text.trim()) { this.close(); return; }
    if (this.block && this.block.kind === "table" && text.includes("|")) { this.tableRow(text); return; }
    if (this.toTable(text)) return;
    const heading = HEADING.exec(text);
    if (heading) { this.close(true); this.heading(heading[1].length, heading[2] || ""); return; }
    if (RULE.test(text) && !(this.block && this.block.kind === "para")) {
      this.close(true);
      this.put(element("hr"));
      return;
    }
    const item = ITEM.exec(text);
    if (item && (item[3] !== undefined || !this.block)) { this.listItem(item); return; }
    const quote = QUOTE.exec(text);
    if (quote) { this.quoteLine(quote[1]); return; }
    this.textLine(text);
  }

  openFence(marker, language) {
    this.close(true);
    const holder = document.createDocumentFragment();
    const view = new CodeView(holder, language);
    this.put(view.element);
    this.fence = { view, marker };
  }

  fenceLine(text) {
    const { marker, view } = this.fence;
    const trimmed = text.trim();
    if (trimmed.length >= marker.length && [...trimmed].every((ch) => ch === marker[0])) {
      this.closeFence();
      return;
    }
    view.addLine(text);
  }

  closeFence() {
    if (!this.fence) return;
    this.fence.view.setTail("");
    this.fence = null;
  }

  heading(level, text) {
    const h = element("h" + level);
    renderInline(text, h);
    this.put(h);
  }

  textLine(text) {
    const block = this.block;
    if (block && (block.kind === "para" || block.kind === "item" || block.kind === "quote")) {
      block.lines.push(block.kind === "item" ? text.trim() : text);
      return;
    }
    this.close(true);
    this.block = { kind: "para", lines: [text], el: element("p") };
    this.put(this.block.el);
  }

  quoteLine(text) {
    if (this.block && this.block.kind === "quote") {
      this.block.lines.push(text);
      return;
    }
    this.close(true);
    const el = element("blockquote");
    this.block = { kind: "quote", lines: [text], el };
    this.put(el);
  }

  listItem(match) {
    const indent = indentOf(match[1]);
    const ordered = /\d/.test(match[2]);
    if (this.block && this.block.kind !== "item") this.close(true);
    else if (this.block) this.render(this.block); // the previous item is finished
    while (this.lists.length > 1 && indent < this.lists[this.lists.length - 1].indent) this.lists.pop();
    let list = this.lists[this.lists.length - 1];
    if (list && list.ordered !== ordered && indent < list.indent + 2) {
      this.lists.pop(); // the other kind of list, at the same level: a new list
      list = this.newList(indent, ordered, this.lists[this.lists.length - 1], match[2]);
    } else if (!list || indent >= list.indent + 2) {
      list = this.newList(indent, ordered, list, match[2]);
    }
    const li = element("li");
    list.el.append(li);
    this.block = { kind: "item", lines: [match[3] || ""], el: li };
  }

  newList(indent, ordered, outer, marker) {
    const el = element(ordered ? "ol" : "ul");
    const start = parseInt(marker, 10);
    if (ordered && start !== 1 && Number.isFinite(start)) el.start = start;
    if (outer && outer.el.lastElementChild) outer.el.lastElementChild.append(el);
    else this.put(el);
    const list = { indent, ordered, el };
    this.lists.push(list);
    return list;
  }

  toTable(text) {
    const block = this.block;
    if (!block || block.kind !== "para" || block.lines.length !== 1) return false;
    if (!TABLE_RULE.test(text) || !text.includes("|") || !block.lines[0].includes("|")) return false;
    const table = element("table");
    const head = element("thead");
    head.append(this.row(block.lines[0], "th"));
    const body = element("tbody");
    table.append(head, body);
    block.el.replaceWith(table);
    this.block = { kind: "table", lines: [], el: table, body };
    return true;
  }

  tableRow(text) {
    this.block.body.append(this.row(text, "td"));
  }

  row(line, tag) {
    const tr = element("tr");
    for (const cell of cells(line)) {
      const td = element(tag);
      renderInline(cell, td);
      tr.append(td);
    }
    return tr;
  }

  // Finishes the open block. Open lists end too, except at a blank line after an item
  // (`endLists` not set): an item after it continues the same list.
  close(endLists) {
    if (this.block) this.render(this.block);
    const wasItem = this.block && this.block.kind === "item";
    this.block = null;
    if (endLists || !wasItem) this.lists = [];
  }

  // -- the open block, rebuilt once per frame ----------------------------------------------

  render(block, partial) {
    if (block.kind === "table") return;
    const lines = partial ? [...block.lines, partial] : block.lines;
    block.el.replaceChildren();
    renderInline(lines.join("\n"), block.el);
  }

  refresh() {
    const partial = this.partial;
    if (this.fence) { this.fence.view.setTail(partial); this.setTail(""); return; }
    const block = this.block;
    const joins = block && block.kind !== "table" && partial && !FENCE.test(partial) && !ITEM.test(partial);
    if (block && block.kind !== "table") this.render(block, joins ? partial.replace(/^ {0,3}>[ \t]?/, "") : "");
    this.setTail(joins ? "" : partial);
  }

  setTail(text) {
    if (!text) {
      if (this.tail) this.tail.remove();
      this.tail = null;
      return;
    }
    if (!this.tail) this.tail = element("p", "tail");
    this.tail.replaceChildren();
    renderInline(text.replace(/^ {0,3}(#{1,6}|>|[-*+]|\d{1,9}[.)])[ \t]+/, ""), this.tail);
    if (this.tail.parentNode !== this.element || this.tail !== this.element.lastChild) this.element.append(this.tail);
  }
}

// Renders a whole Markdown text at once (saved messages).
export function renderMarkdown(parent, text) {
  const stream = new MarkdownStream(parent);
  stream.queued = String(text);
  stream.finish(true);
  return stream;
}
