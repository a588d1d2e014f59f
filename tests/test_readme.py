"""The README's zeep snippet works as written against a running hub."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from hubstack import running_hub

README = Path(__file__).parent.parent / "README.md"


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow
def test_the_readme_zeep_snippet_submits_and_reads_the_status(tmp_path: Path) -> None:
    (snippet,) = [code for code in python_snippets() if "service.Submit(" in code]
    with running_hub(tmp_path) as stack:
        code = snippet.replace("http://127.0.0.1:8700", stack.server.url)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, str(README), "exec"), {})

    lines = printed.getvalue().splitlines()
    assert "accepted ['SOCIAL_SECURITY', 'TAX']" in lines[0]
    assert {line.split()[0] for line in lines[1:]} == {"SOCIAL_SECURITY", "TAX"}
