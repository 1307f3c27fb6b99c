"""The public base URL is checked before printing, and `make run` serves the address it
prints (issue 21, item 1)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from survey_app.cli import serve
from survey_app.services.public_address import (
    ServeAddressError,
    check_public_address,
    listen_address,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("base", "host", "lan_ok", "kinds"), [
    ("http://127.0.0.1:5000", None, False, ["loopback"]),
    ("http://[::1]:5000", None, False, ["loopback"]),
    ("http://localhost", None, False, ["loopback"]),
    ("http://0.0.0.0:5000", None, False, ["unspecified"]),
    ("http://10.2.3.4", None, False, ["private"]),
    ("http://172.16.0.9:8080", None, False, ["private"]),
    ("http://192.168.1.20:8000", None, False, ["private"]),
    ("http://192.168.1.20:8000", None, True, []),
    ("http://169.254.1.1", None, False, ["private"]),
    ("http://survey", None, False, ["local_name"]),
    ("http://survey.local", None, False, ["local_name"]),
    ("http://survey.local", None, True, []),
    ("ftp://survey.example.gov.cn", None, False, ["malformed"]),
    ("survey.example.gov.cn", None, False, ["malformed"]),
    ("http://survey.example.gov.cn:99999", None, False, ["malformed"]),
    ("https://survey.example.gov.cn", None, False, []),
    ("http://120.25.1.10:8000", "120.25.1.10:8000", False, []),
    ("http://120.25.1.10", "120.25.1.10:80", False, []),
    ("http://120.25.1.10:8000", "120.25.1.10:8001", False, ["mismatch"]),
    ("http://127.0.0.1:5000", "127.0.0.1:5001", False, ["loopback", "mismatch"]),
])
def test_address_problems(base, host, lan_ok, kinds):
    found = check_public_address(base, request_host=host, lan_ok=lan_ok)
    assert [p.kind for p in found] == kinds


def test_a_mismatch_names_both_addresses():
    (problem,) = check_public_address("https://survey.example.gov.cn", request_host="10.0.0.5",
                                      request_scheme="http")
    assert (problem.address, problem.served) == ("https://survey.example.gov.cn",
                                                 "http://10.0.0.5")


@pytest.mark.parametrize(("base", "listen"), [
    ("http://127.0.0.1:5000", ("127.0.0.1", 5000)),
    ("http://localhost:8123/", ("127.0.0.1", 8123)),
    ("http://192.168.1.20:8000", ("192.168.1.20", 8000)),
    ("http://[::1]:8000", ("::1", 8000)),
    ("http://survey.example.gov.cn", ("0.0.0.0", 80)),
])
def test_the_server_listens_where_the_printed_address_points(base, listen):
    assert listen_address(base) == listen


def test_https_needs_an_explicit_listen_address():
    with pytest.raises(ServeAddressError, match="plain http"):
        listen_address("https://survey.example.gov.cn")


@pytest.mark.parametrize(("base", "args", "listen", "warned"), [
    ("http://127.0.0.1:5123", [], ("127.0.0.1", 5123), "only this computer"),
    ("http://192.168.1.20:8000", [], ("192.168.1.20", 8000), "local network"),
    ("https://survey.example.gov.cn", ["--bind", "127.0.0.1", "--port", "8000"],
     ("127.0.0.1", 8000), None),
])
def test_serve_listens_at_the_public_address(make_app, monkeypatch, base, args, listen, warned):
    served = []
    monkeypatch.setattr(serve, "run_simple",
                        lambda host, port, app, **kw: served.append((host, port)))
    result = make_app(PUBLIC_BASE_URL=base).test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    assert served == [listen]
    assert f"use {base}; listening on {listen[0]}:{listen[1]}" in result.output
    assert (warned is None) == ("warning" not in result.output)
    if warned:
        assert warned in result.output


def test_serve_warns_that_secure_cookies_over_http_break_logins(make_app, monkeypatch):
    monkeypatch.setattr(serve, "run_simple", lambda host, port, app, **kw: None)
    result = make_app(PUBLIC_BASE_URL="http://192.168.1.20:8000", SESSION_COOKIE_SECURE=True,
                      PUBLIC_URL_LAN_ONLY=True).test_cli_runner().invoke(args=["serve"])
    assert result.exit_code == 0, result.output
    assert ("warning: SURVEY_SESSION_COOKIE_SECURE=true, but this is served over http://: "
            "browsers keep no session, so staff logins fail") in result.output


def test_serve_refuses_https_without_a_listen_address(make_app):
    result = make_app(PUBLIC_BASE_URL="https://survey.example.gov.cn").test_cli_runner().invoke(
        args=["serve"])
    assert result.exit_code != 0 and "plain http://" in result.output


@pytest.mark.parametrize(("make_args", "url"), [
    ([], "http://127.0.0.1:5000"),
    (["PORT=8123"], "http://127.0.0.1:8123"),
    (["SURVEY_PUBLIC_BASE_URL=http://192.168.1.20:8000"], "http://192.168.1.20:8000"),
])
def test_make_run_prints_and_serves_one_address(make_args, url):
    # `make -n` shows the commands: the demo links and the server get the same address.
    commands = subprocess.run(["make", "-n", "-C", str(ROOT), "run", *make_args],
                              capture_output=True, text=True, check=True,
                              env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    demo = next(line for line in commands if "demo load" in line)
    # The server line sits in a shell branch (with or without the job worker): each branch.
    servers = [line.strip() for line in commands if "survey-app serve" in line]
    assert demo.startswith(f"SURVEY_PUBLIC_BASE_URL={url} ")
    assert servers and all(s.startswith(f"SURVEY_PUBLIC_BASE_URL={url} ") for s in servers)
