"""Usage errors: one line, prefixed `barometer: error:` like every other error, exit 2, no
traceback; each refused before anything is read from an API or written to a lake."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from barometer.cli import build_parser, main

RUN = ["run", "--panel", "pharma-fr", "--lake", "{tmp}/lake", "--site", "{tmp}/site"]


def _main(argv: list[str], tmp_path: Path) -> int:
    try:
        return main([a.format(tmp=tmp_path) for a in argv])
    except SystemExit as e:  # argparse's own usage errors
        return int(e.code or 0)


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


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


@pytest.mark.parametrize(("argv", "line"), [
    # dates a run cannot read: after the simulated world's last day, before the panel's first
    ([*RUN, "--date", "2030-01-01"],
     "run: --date 2030-01-01: after 2018-04-30, the last day of the simulated world of panel pharma-fr"),
    ([*RUN, "--date", "0001-01-01"], "run: --date 0001-01-01: before 2016-11-01, the first date of panel pharma-fr"),
    ([*RUN, "--date", "2018-04-30", "--mode", "backfill", "--since", "2016-01-01"],
     "run: --since 2016-01-01: before 2016-11-01, the first date of panel pharma-fr"),
    # numeric flags: finite and > 0
    ([*RUN, "--date", "2018-04-30", "--deadline", "nan"], "run: argument --deadline: not a finite number: 'nan'"),
    ([*RUN, "--date", "2018-04-30", "--deadline", "inf"], "run: argument --deadline: not a finite number: 'inf'"),
    ([*RUN, "--date", "2018-04-30", "--deadline", "0"], "run: argument --deadline: must be more than 0 seconds: '0'"),
    ([*RUN, "--date", "2018-04-30", "--deadline", "-1"],
     "run: argument --deadline: must be more than 0 seconds: '-1'"),
    # backfill and --since
    ([*RUN, "--date", "2018-04-30", "--mode", "backfill"],
     "run: --mode backfill needs --since (the first day of the range)"),
    ([*RUN, "--date", "2018-04-30", "--since", "2018-01-01"], "run: --since goes with --mode backfill"),
    ([*RUN, "--date", "2018-04-30", "--mode", "backfill", "--since", "2018-05-01"],
     "run: --since 2018-05-01: after --date 2018-04-30"),
    # ports
    (["serve", "--port", "-1"], "serve: argument --port: not a port (0-65535): '-1'"),
    (["sim", "serve", "--port", "70000"], "sim serve: argument --port: not a port (0-65535): '70000'"),
    (["sim", "serve", "--port", "http"], "sim serve: argument --port: not a port (0-65535): 'http'"),
    (["trigger", "--panel", "pharma-fr", "--poll", "nan"], "trigger: argument --poll: not a finite number: 'nan'"),
])
def test_bad_values_are_refused_in_one_line(argv: list[str], line: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(argv, tmp_path) == 2
    assert _one_line(capsys) == f"barometer: error: {line}"
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize("argv", [
    ["run", "--panel", "pharma-fr", "--date", "{date}"],
    ["reparse", "--panel", "pharma-fr", "--date", "{date}"],
    ["explain", "--panel", "pharma-fr", "--brand", "sanofi", "--date", "{date}"],
    ["trigger", "--panel", "pharma-fr", "--date", "{date}"],
    ["run", "--panel", "pharma-fr", "--date", "2018-04-30", "--mode", "backfill", "--since", "{date}"],
    ["sim", "generate", "--out", "{tmp}/lake", "--end-date", "{date}"],
], ids=lambda argv: " ".join(argv[:2]))
@pytest.mark.parametrize("bad", ["2018-02-30", "30/04/2018", "yesterday"])
def test_a_bad_date_is_refused_in_the_same_words_by_every_command(
        argv: list[str], bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main([a.replace("{date}", bad) for a in argv], tmp_path) == 2
    line = _one_line(capsys)
    flag = argv[argv.index("{date}") - 1]
    command = " ".join(a for a in argv[:2] if not a.startswith("-"))
    assert line == f"barometer: error: {command}: argument {flag}: not a date (YYYY-MM-DD): {bad!r}"


def test_a_date_out_of_range_is_refused_in_the_same_words_by_run_and_trigger(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main([*RUN, "--date", "2010-01-01"], tmp_path) == 2
    run = _one_line(capsys).removeprefix("barometer: error: run: ")
    assert _main(["trigger", "--panel", "pharma-fr", "--date", "2010-01-01"], tmp_path) == 2
    trigger = _one_line(capsys).removeprefix("barometer: error: trigger: ")
    assert run == trigger == "--date 2010-01-01: before 2016-11-01, the first date of panel pharma-fr"
    # after: on the simulator the world's last day; against X (and in AWS) today in the panel's zone
    assert _main(["trigger", "--panel", "pharma-fr", "--date", "2999-01-01"], tmp_path) == 2
    assert _one_line(capsys).startswith("barometer: error: trigger: --date 2999-01-01: after ")


def test_every_command_uses_the_same_lake(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = [["demo"], ["run", "--panel", "p", "--date", "2018-04-30"], ["query", "SELECT 1"],
                ["explain", "--panel", "p", "--brand", "b"], ["reparse", "--panel", "p", "--date", "2018-04-30"]]
    monkeypatch.delenv("BAROMETER_LAKE", raising=False)
    assert {build_parser().parse_args(c).lake for c in commands} == {"out/lake"}
    monkeypatch.setenv("BAROMETER_LAKE", "/data/lake")
    assert {build_parser().parse_args(c).lake for c in commands} == {"/data/lake"}


def test_a_run_has_a_deadline_by_default() -> None:
    args = build_parser().parse_args(["run", "--panel", "p", "--date", "2018-04-30"])
    assert args.deadline == 900


def test_binary_panel_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panel = tmp_path / "panel.yaml"
    panel.write_bytes(bytes(range(256)))
    assert _main(["run", "--panel", str(panel), "--date", "2018-04-30", "--lake", "{tmp}/lake"], tmp_path) == 2
    assert _one_line(capsys) == f"barometer: error: {panel}: not a panel file: not UTF-8 text (byte 128), YAML expected"


def test_serve_on_a_busy_port_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html>", encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert _main(["serve", "--site", str(site), "--port", str(port)], tmp_path) == 2
    assert _one_line(capsys) == (f"barometer: error: serve: cannot listen on 127.0.0.1:{port} "
                                 "(Address already in use): another server holds it, pass --port")


# -- trigger: checked against the panel and the environment before any call to AWS -------------
@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks (environment, files, instance metadata)."""
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


ARN = "arn:aws:states:eu-west-3:123456789012:stateMachine:OpinionBarometer"


@pytest.mark.usefixtures("no_aws")
@pytest.mark.parametrize(("argv", "line"), [
    (["--brands", "sanofi,nope"], "trigger: --brands: panel pharma-fr has no brand 'nope' (its brands: "
                                  "astrazeneca-france, gsk-france, msd-france, novartis-france, pfizer-france, "
                                  "roche-france, sanofi)"),
    (["--date", "2016-10-31"], "trigger: --date 2016-10-31: before 2016-11-01, the first date of panel pharma-fr"),
    (["--state-machine-arn", ARN], "trigger: no AWS credentials found: set AWS_PROFILE (after `aws sso login` or "
                                   "`aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
])
def test_trigger_refuses_before_calling_aws(argv: list[str], line: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["trigger", "--panel", "pharma-fr", *argv], tmp_path) == 2
    assert _one_line(capsys) == f"barometer: error: {line}"


def test_trigger_takes_the_region_from_the_arn() -> None:
    from barometer.aws.trigger import arn_region

    assert arn_region(ARN) == "eu-west-3"
    assert arn_region("arn:aws:s3:::bucket") is None and arn_region("nope") is None and arn_region(None) is None


def test_trigger_without_boto3_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # the `make demo` environment has no boto3
    assert _main(["trigger", "--panel", "pharma-fr"], tmp_path) == 2
    line = _one_line(capsys)
    assert line.startswith("barometer: error: trigger needs boto3") and "pip install -e '.[aws]'" in line
