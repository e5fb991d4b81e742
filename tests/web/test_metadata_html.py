"""Metadata values as HTML: markdown without raw HTML, tables, JSON, safe links, paths."""

from __future__ import annotations

from bakehouse.web.metadata_html import render_value, summary


def test_markdown_renders_but_raw_html_and_script_links_do_not() -> None:
    html = render_value(
        {"type": "md", "value": "**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1))"}
    )
    assert "<strong>bold</strong>" in html
    assert "<img" not in html
    assert "&lt;img" in html
    assert 'href="javascript' not in html


def test_markdown_tables_render_as_tables() -> None:
    html = render_value({"type": "md", "value": "| a | b |\n|---|---|\n| 1 | 2 |"})
    assert "<table>" in html
    assert "<td>2</td>" in html


def test_a_table_value_is_an_html_table_with_escaped_cells() -> None:
    value = {
        "columns": [{"name": "name", "type": "string"}, {"name": "n", "type": "int"}],
        "records": [{"name": "<b>x</b>", "n": 1}, {"name": "y", "n": None}],
    }
    html = render_value({"type": "table", "value": value})
    assert html.count("<tr>") == 3
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert '<th title="int">n</th>' in html


def test_json_url_path_and_plain_values() -> None:
    assert "&#34;b&#34;: 1" in render_value({"type": "json", "value": {"a": {"b": 1}}})
    link = render_value({"type": "url", "value": "https://example.com/a?b=1&c=2"})
    assert 'href="https://example.com/a?b=1&amp;c=2"' in link
    assert "href" not in render_value({"type": "url", "value": "javascript:alert(1)"})
    assert '<code class="path">/tmp/x</code>' in render_value({"type": "path", "value": "/tmp/x"})
    assert "1,234" in render_value({"type": "int", "value": 1234})
    assert "&lt;script&gt;" in render_value({"type": "text", "value": "<script>"})
    assert "null" in render_value({"type": "null", "value": None})
    assert "&#34;unknown&#34;" in render_value({"type": "whatever", "value": "unknown"})


def test_summary_shows_the_first_values_and_how_many_more() -> None:
    text = summary({f"k{i}": {"type": "int", "value": i} for i in range(5)})
    assert "k0" in text
    assert "k3" not in text
    assert "+2 more" in text
    assert "no metadata" in summary({})
