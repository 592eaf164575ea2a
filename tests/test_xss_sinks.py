"""No HTML is ever made from text in the browser code or the templates: the static half
of the XSS check (tests/test_browser.py renders markup in a post as text in Chromium).

The page scripts build every element with `el()` (static/app.js) and set text
with `textContent`; templates are Tornado's, which escape every `{{ }}`. A sink
added later fails here with its file and line, to be rewritten or argued for.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Where text turns into markup or code in a browser.
SCRIPT_SINKS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\s*\("
    r"|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*['\"`]|\.srcdoc\b"
    r"|createContextualFragment|DOMParser"
)
#: Tornado template constructs that turn escaping off.
TEMPLATE_SINKS = re.compile(r"{%-?\s*(?:raw|autoescape)\b")


def findings(paths: list[Path], sink: re.Pattern[str]) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if sink.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_browser_code_has_no_html_or_code_sink() -> None:
    scripts = sorted((ROOT / "static").rglob("*.js"))
    assert len(scripts) >= 5  # the scan sees the page scripts
    assert findings(scripts, SCRIPT_SINKS) == []


def test_templates_never_turn_escaping_off() -> None:
    templates = sorted((ROOT / "templates").glob("*.html"))
    assert templates
    assert findings(templates, TEMPLATE_SINKS) == []


def test_the_scan_would_see_a_sink() -> None:
    assert SCRIPT_SINKS.search("node.innerHTML = text")
    assert SCRIPT_SINKS.search("el.insertAdjacentHTML('beforeend', x)")
    assert SCRIPT_SINKS.search('setTimeout("go()", 10)')
    assert not SCRIPT_SINKS.search("node.textContent = text")
    assert TEMPLATE_SINKS.search("{% raw post.text %}")
    assert not TEMPLATE_SINKS.search("{{ post.text }}")
