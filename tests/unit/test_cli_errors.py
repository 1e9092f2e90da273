"""Usage errors: one line, prefixed `barometer: error:` like every other error, exit 2."""

from __future__ import annotations

import pytest

from barometer.cli import main


@pytest.mark.parametrize(("argv", "line"), [
    (["run", "--panel", "pharma-fr", "--date", "2018-02-30"], "barometer: error: run: argument --date: "),
    (["sim", "generate", "--brands", "x"], "barometer: error: sim generate: argument --brands: not an integer: 'x'"),
    (["nope"], "barometer: error: argument COMMAND: invalid choice: 'nope'"),
])
def test_usage_errors_are_one_prefixed_line(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith(line) and err.count("\n") == 1
