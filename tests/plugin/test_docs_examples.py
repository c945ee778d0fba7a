"""The README's pytest examples are run as they are written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(r"<!-- pytester: (?P<name>\S+\.py) -->\n```python\n(?P<code>.*?)```", re.S)


def examples() -> dict[str, str]:
    return {m["name"]: m["code"] for m in EXAMPLE.finditer(DOCS.read_text(encoding="utf-8"))}


def test_the_docs_have_runnable_examples() -> None:
    assert {"test_example_order_sms.py", "test_example_resilience.py"} <= set(examples())


@pytest.mark.parametrize("name", sorted(examples()))
def test_the_example_passes_as_written(pytester: pytest.Pytester, name: str) -> None:
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\nfilterwarnings = error\n"
    )
    code = examples()[name]
    (pytester.path / name).write_text(code, encoding="utf-8")
    tests = len(re.findall(r"^def test_", code, re.M))

    result = pytester.runpytest(name)

    result.assert_outcomes(passed=tests)
