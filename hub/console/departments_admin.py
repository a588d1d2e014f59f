"""Departments changed from the console (configure permission): enable, disable, roll back
to a registered version, and check or register a department package uploaded as a zip. The
same calls as `govhub departments …` and the admin API (hub/configuration/admin.py): each
change is checked against the whole configuration it would make, written with its audit
entry (the account's name as actor), and every process picks it up."""

from __future__ import annotations

from pathlib import PurePath

from hub.configuration.checks import CHECKS
from hub.configuration.package import package_from_zip
from hub.console.http import PREFIX, Answer, Request, redirect
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.errors import ClientError, RegistrationRefused

PACKAGE_FIELD = "package"


def enable(context: Context, request: Request) -> Answer:
    return _set_enabled(context, request, enabled=True)


def disable(context: Context, request: Request) -> Answer:
    return _set_enabled(context, request, enabled=False)


def rollback(context: Context, request: Request) -> Answer:
    code = _code(request)
    version = request.form.get("version", "")
    if not version.isdigit():
        raise ClientError("choose a registered version to roll back to")
    context.app.configuration().rollback(code, int(version), context.session.username)
    return redirect(f"{PREFIX}/departments/{code}")


def package(context: Context, request: Request) -> Answer:
    """``action=check``: every check, nothing stored; ``register``: the checks, then the new
    version. A package that fails shows every reason and changes nothing."""
    upload = request.files.get(PACKAGE_FIELD)
    if upload is None or not upload.data:
        raise ClientError("choose a department package (a .zip of its folder) to upload")
    register = request.form.get("action") == "register"
    source = f"console upload {PurePath(upload.filename).name or 'package.zip'}"
    admin = context.app.configuration()
    try:
        found = package_from_zip(upload.data, source)
        if register:
            outcome = admin.register(found, context.session.username)
        else:
            outcome = admin.check(found)
    except RegistrationRefused as refused:
        body = _page(context, source, register, reasons=refused.reasons)
        return Answer("422 Unprocessable Entity", body)
    return Answer("200 OK", _page(context, source, register, outcome=outcome))


def _set_enabled(context: Context, request: Request, *, enabled: bool) -> Answer:
    code = _code(request)
    context.app.configuration().set_enabled(code, enabled, context.session.username)
    return redirect(f"{PREFIX}/departments/{code}")


def _page(context: Context, source: str, register: bool, **result: object) -> bytes:
    values = {"outcome": None, "reasons": [], **result}
    return render(
        "package.html", source=source, register=register, checks=CHECKS, **values, **chrome(context)
    )


def _code(request: Request) -> str:
    return request.path.strip("/").split("/")[1]
