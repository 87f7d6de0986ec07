"""The UI's Markdown renderer and highlighter, run in real headless Chromium as the page
loads them (ES modules under ``/ui/``): the streamed rendering equals the one-shot
rendering whatever the chunking, the structure is right, and model text never becomes
markup."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from interpreter.server.outbox import MAX_MERGED, merge_text
from interpreter.testing.fake_server import FakeModelServer
from webui_helpers import chromium, ui_servers

pytestmark = pytest.mark.deadline(120)

DOCS = [
    "# Title\n\nSome *text* with **bold**, `code` and a [link](https://example.com).\n",
    "## Steps\n\n1. first\n2. second\n   - nested a\n   - nested b\n3. third\n\nAfter the list.\n",
    "3. three\n4. four\n\n- loose one\n\n- loose two\n",
    "```python\ndef f(x):\n    '''doc\n    string'''\n    return x + 1  # add\n```\n\ntext after\n",
    "~~~\nplain fence\n~~~\n```js\nconst a = `multi\nline`; // c\n```",
    "| name | value |\n|:---|---:|\n| a | 1 |\n| b | `2` |\n\n> quoted *line*\n> second line\n\n---\n\nend",
    "line one\nline two\n\n#not a heading\n\n* * *\n\n```\nunclosed fence at the end\n",
    "<script>alert(1)</script> <b onclick=x>bold?</b>\n\n![img](https://example.com/x.png)\n",
    'Text then\n```sh\necho $HOME "quoted" # comment\n```\nand **unclosed bold\n',
]

RENDER = """async ({docs, cuts}) => {
  const {MarkdownStream, renderMarkdown} = await import("/ui/markdown.js");
  const out = [];
  docs.forEach((doc, i) => {
    const whole = document.createElement("div");
    renderMarkdown(whole, doc);
    const streamed = document.createElement("div");
    const stream = new MarkdownStream(streamed);
    let at = 0;
    for (const cut of [...cuts[i], doc.length]) {
      stream.append(doc.slice(at, cut));
      stream.flush();  // what a frame does between pieces
      at = cut;
    }
    stream.finish(true);
    out.push([whole.innerHTML, streamed.innerHTML]);
  });
  return out;
}"""

INLINE = """async (texts) => {
  const {renderInline} = await import("/ui/inline.js");
  return texts.map((text) => { const el = document.createElement("p"); renderInline(text, el); return el.innerHTML; });
}"""

HIGHLIGHT = """async ([language, lines]) => {
  const {highlighter} = await import("/ui/highlight.js");
  const h = highlighter(language);
  return lines.map((line) => [...h.line(line).childNodes].map((n) => [n.className || "", n.textContent]));
}"""

ELEMENTS = """async (doc) => {
  const {renderMarkdown} = await import("/ui/markdown.js");
  const el = document.createElement("div");
  renderMarkdown(el, doc);
  return [...el.querySelectorAll("*")].map((n) => [n.tagName.toLowerCase(), [...n.attributes].map((a) => a.name)]);
}"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with FakeModelServer() as model, ui_servers(model) as start, chromium() as context:
        server = start()
        tab = context.new_page()
        tab.goto(f"http://127.0.0.1:{server.port}/ui/")  # no token: the page only loads
        yield tab


def _cuts(doc: str, rng: random.Random, mode: str) -> list[int]:
    if mode == "chars":
        return list(range(1, len(doc)))
    return sorted(rng.sample(range(1, len(doc)), k=min(len(doc) - 1, rng.randint(1, 12))))


@pytest.mark.parametrize("mode", ["chars", "random"])
def test_streamed_rendering_equals_the_whole_rendering(page: Page, mode: str) -> None:
    rng = random.Random(16)
    cuts = [_cuts(doc, rng, mode) for doc in DOCS]
    for (whole, streamed), doc in zip(
        page.evaluate(RENDER, {"docs": DOCS, "cuts": cuts}), DOCS, strict=True
    ):
        assert streamed == whole, doc


def test_markdown_structure(page: Page) -> None:
    html = [w for w, _ in page.evaluate(RENDER, {"docs": DOCS, "cuts": [[] for _ in DOCS]})]
    assert "<h1>Title</h1>" in html[0]
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer">' in html[0]
    assert "<ol><li>first</li><li>second<ul><li>nested a</li><li>nested b</li></ul></li>" in html[1]
    assert (
        '<ol start="3"><li>three</li><li>four</li></ol><ul><li>loose one</li><li>loose two</li></ul>'
        in html[2]
    )
    assert (
        '<span class="tok-kw">def</span>' in html[3]
        and '<span class="tok-com"># add</span>' in html[3]
    )
    two_lines = (
        "<span class=\"tok-str\">'''doc</span>\n<span class=\"tok-str\">    string'''</span>"
    )
    assert two_lines in html[3]  # a string over two lines
    assert "<thead><tr><th>name</th><th>value</th></tr></thead>" in html[5]
    assert "<td><code>2</code></td>" in html[5]
    assert (
        "<blockquote>quoted <em>line</em><br>second line</blockquote>" in html[5]
        and "<hr>" in html[5]
    )
    assert "<p>line one<br>line two</p><p>#not a heading</p><hr>" in html[6]
    assert "unclosed fence at the end" in html[6] and html[6].count("<pre>") == 1
    assert "and <strong>" not in html[8] and "**unclosed bold" in html[8]


def test_model_html_stays_text(page: Page) -> None:
    ((whole, _),) = page.evaluate(RENDER, {"docs": [DOCS[7]], "cuts": [[]]})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b onclick=x&gt;bold?&lt;/b&gt;" in whole
    elements = page.evaluate(ELEMENTS, DOCS[7] + "\n" + "\n".join(DOCS))
    allowed_tags = {
        "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "hr",
        "table", "thead", "tbody", "tr", "th", "td", "pre", "code", "span", "strong", "em",
        "del", "a", "br",
    }  # fmt: skip
    allowed_attributes = {"class", "href", "target", "rel", "start"}
    assert {tag for tag, _ in elements} <= allowed_tags
    assert {a for _, attributes in elements for a in attributes} <= allowed_attributes


def test_inline_markdown(page: Page) -> None:
    cases = {
        "a **b** *c* `d` ~~e~~": "a <strong>b</strong> <em>c</em> <code>d</code> <del>e</del>",
        "snake_case_name and 2 * 3 * 4": "snake_case_name and 2 * 3 * 4",
        "intra*word*": "intra<em>word</em>",
        "[x](javascript:alert(1))": "<span>x</span>)",
        "<b>bold</b> & more": "&lt;b&gt;bold&lt;/b&gt; &amp; more",
        "see https://example.com/a.": 'see <a href="https://example.com/a" target="_blank" rel="noopener noreferrer">https://example.com/a</a>.',
        "\\*not em\\*": "*not em*",
        "``a ` b``": "<code>a ` b</code>",
    }
    assert page.evaluate(INLINE, list(cases)) == list(cases.values())


def test_highlighting_carries_state_across_lines(page: Page) -> None:
    lines = page.evaluate(HIGHLIGHT, ["python", ['x = """start', "middle", 'end""" + 1', "# note"]])
    assert lines[0] == [["", "x = "], ["tok-str", '"""start']]
    assert lines[1] == [["tok-str", "middle"]]
    assert lines[2] == [["tok-str", 'end"""'], ["", " + "], ["tok-num", "1"]]
    assert lines[3] == [["tok-com", "# note"]]
    shell = page.evaluate(HIGHLIGHT, ["bash", ["echo $HOME a#b # c"]])
    assert shell[0] == [
        ["tok-kw", "echo"],
        ["", " "],
        ["tok-var", "$HOME"],
        ["", " a#b "],
        ["tok-com", "# c"],
    ]


# -- the server side of streaming: queued text chunks go out merged ---------------------------


def _text(content: str, **extra: Any) -> dict[str, Any]:
    return {"role": "assistant", "type": "message", "content": content, **extra}


def test_merge_text_joins_only_plain_pieces_of_one_block() -> None:
    start = {"role": "assistant", "type": "message", "start": True}
    code = {"role": "assistant", "type": "code", "format": "python", "content": "x"}
    line = {"role": "computer", "type": "console", "format": "active_line", "content": 1}
    events = [start, _text("a"), _text("b"), code, code, _text("c"), line, line, _text("d")]
    assert merge_text(events) == [
        start,
        _text("ab"),
        {**code, "content": "xx"},
        _text("c"),
        line,
        line,
        _text("d"),
    ]
    big = [_text("x" * (MAX_MERGED // 2 + 1)) for _ in range(3)]
    assert [len(e["content"]) for e in merge_text(big)] == [MAX_MERGED // 2 + 1] * 3
    assert merge_text([_text("a", recipient="user"), _text("b")]) == [
        _text("a", recipient="user"),
        _text("b"),
    ]
