"""A small HTTP client for the reliability tests: a cookie jar, a chosen source address,
extra headers, no redirects followed, and the forms of a page read as a browser sees them.

A source address of the loopback net (127.0.0.2, 127.0.0.3, ...; Linux routes all of
127.0.0.0/8 to ``lo``) makes each simulated client a real, distinct peer address, for the
server or for a proxy in front of it.
"""

from __future__ import annotations

import http.client
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """One client: ``host``/``port`` of the server (or proxy), ``source`` its address."""

    host: str
    port: int
    source: str = "127.0.0.1"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 60

    def request(self, method: str, path: str, fields: dict | list | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        # One connection per request: gunicorn spreads them over its workers, and a proxy
        # sees each request's peer address afresh.
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=(self.source, 0))
        sent = {"Connection": "close", **self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            conn.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return Reply(response.status, response.headers, text)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, fields: dict | list, **kwargs) -> Reply:
        return self.request("POST", path, fields, **kwargs)


def path_of(location: str) -> str:
    """The path (and query) of a Location header, absolute or not."""
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Control:
    tag: str  # input, button, textarea, select
    type: str
    name: str
    value: str
    text: str = ""  # a button's label
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def buttons(self) -> list[Control]:
        return [c for c in self.controls
                if c.tag == "button" and c.type in ("submit", "")
                or c.tag == "input" and c.type == "submit"]

    def hidden(self) -> list[tuple[str, str]]:
        return [(c.name, c.value) for c in self.controls
                if c.tag == "input" and c.type == "hidden" and c.name]


@dataclass
class Link:
    href: str
    text: str


class PageParser(HTMLParser):
    """The forms (with their controls) and links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self._form: Form | None = None
        self._open: Control | Link | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "a" and "href" in a:
            self._open = Link(a["href"], "")
            self.links.append(self._open)
        elif tag in ("input", "button", "textarea", "select") and self._form is not None:
            default = "submit" if tag == "button" else "text" if tag == "input" else tag
            control = Control(tag, a.get("type", default).lower(), a.get("name", ""),
                              a.get("value", ""), attrs=a)
            self._form.controls.append(control)
            if tag in ("button", "textarea"):
                self._open = control
        elif tag == "option" and self._form is not None and self._form.controls:
            select = self._form.controls[-1]
            if select.tag == "select" and "value" in a:
                select.attrs.setdefault("options", "")
                select.attrs["options"] += a["value"] + "\n"

    def handle_data(self, data):
        if isinstance(self._open, Link | Control):
            self._open.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag in ("a", "button", "textarea"):
            self._open = None


def read_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def survey_form(page: PageParser) -> Form | None:
    """The questionnaire form of a page: the one with a form instance id and questions."""
    return next((f for f in page.forms
                 if any(c.name == "instance_id" for c in f.controls)
                 and any(c.type in ("radio", "checkbox") for c in f.controls)), None)


def lowest_code(codes: list[str]) -> str:
    """The lowest numeric answer code offered (1 = very dissatisfied on the rating items)."""
    numeric = [code for code in codes if code.isdigit()]
    return min(numeric, key=int) if numeric else codes[0]


def answer_fields(form: Form, pick=lowest_code) -> list[tuple[str, str]]:
    """What submitting ``form`` sends: its own hidden fields, every question answered
    (``pick`` chooses among a choice question's codes; numbers 1, texts empty) and its
    ``submit`` button."""
    fields = form.hidden()
    choices: dict[str, list[str]] = {}
    for control in form.controls:
        if not control.name:
            continue
        if control.tag == "input" and control.type in ("radio", "checkbox"):
            choices.setdefault(control.name, []).append(control.value)
        elif control.tag == "input" and control.type in ("text", "number"):
            # Numbers get 1; anything else typed (a household code, a phone number) is
            # left empty: the client knows none.
            numeric = control.type == "number" or control.attrs.get("inputmode") == "numeric"
            fields.append((control.name, "1" if numeric else ""))
        elif control.tag == "textarea":
            fields.append((control.name, ""))
    fields += [(name, pick(codes)) for name, codes in choices.items()]
    submit = next(b for b in form.buttons() if b.name == "submit")
    fields.append((submit.name, submit.value))
    return fields


def log_in(client: Browser, username: str, password: str,
           headers: dict[str, str] | None = None) -> int:
    """Post the staff login form (with its CSRF field, as a browser would); the status."""
    page = read_page(client.get("/auth/login").text)
    form = next(f for f in page.forms if any(c.name == "password" for c in f.controls))
    return client.post("/auth/login", [*form.hidden(), ("username", username),
                                       ("password", password)], headers=headers).status
