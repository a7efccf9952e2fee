"""The page never turns text into markup: no script uses an HTML sink, and the one
page has no inline script or handler (the Content-Security-Policy would block them,
and this keeps it that way). With that, names, chat, file names and error messages
can only ever be shown as text."""

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "src" / "peercall" / "web"
HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment"
    r"|\beval\(|new Function\(|DOMParser|srcdoc"
)


def test_no_script_builds_html_from_text():
    scripts = sorted((WEB / "js").glob("*.js"))
    assert len(scripts) > 5
    offenders = [
        f"{script.name}:{number}: {line.strip()}"
        for script in scripts
        for number, line in enumerate(script.read_text().splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert offenders == []


def test_the_page_has_no_inline_script_or_handler():
    page = (WEB / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    assert all("src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+\s*=", page)
    assert "javascript:" not in page
