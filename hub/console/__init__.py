"""The web console at /console: server-rendered pages (Jinja2) over the operations layer.

Contract: ``ConsoleApp(store, accounts, departments, settings)`` is a WSGI app for every path
under /console; hub/api/wsgi.py hands those paths to it and nothing else. Accounts are the
/admin accounts (hub/security/admins.py) with their permissions: read for every page,
operate to replay (one message, or many from the list) and to pause or resume a department's
deliveries (hub/observability/pauses.py), configure to change departments (enable, disable,
roll back, register an uploaded package) and to download a signed audit export, reveal to
show identity numbers in clear. Sessions live in
the database (hub/console/sessions.py), failed logins lock out per account and per address
(hub/console/lockout.py), every form carries the session's CSRF token, and every login,
logout, refusal, replay, reveal, pause and resume is audited with the account's name.

    app.py       the session gate and the routes      pages.py    the pages
    http.py      requests, answers, cookies           browse.py   keyset-paged message list
    login.py     name and secret against the account  render.py   templates/
    replay_pages.py    replay many: preview, confirm  replay_history.py  a replay as a child
    departments_admin.py  department changes, uploads  audit_export.py  the signed export
    sealed.py    a filter carried sealed to the next page   upload.py  multipart/form-data
    supervision_pages.py  the supervision board, a case's timeline, the statistics and
                          their .xlsx; supervision_board.py  what those pages draw
    dashboard.py      the dashboard's counts          dashboard_page.py  the dashboard page
    charts.py         its hourly bars (inline SVG)    health.py   database, bus, endpoints
    alerts_page.py    rules, firing alerts, history
"""

from __future__ import annotations

from hub.console.app import ConsoleApp

__all__ = ["ConsoleApp"]
