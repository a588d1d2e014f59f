"""The configuration operations of the SOAP admin API at /admin: the same as
`govhub departments …` and `govhub routes …`. A package travels as a base64 zip of its
folder. Refusals are the fault Client.RegistrationRefused listing every reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spyne import Boolean, ByteArray, ComplexModel, Integer, Unicode, rpc
from spyne.service import Service

from hub.api.soap_protocol import or_fault, unbounded
from hub.conditions import parse_condition
from hub.configuration.admin import ConfigurationAdmin, Outcome
from hub.configuration.package import package_from_zip
from hub.configuration.views import department_detail, department_rows, route_rows
from hub.errors import ClientError, NotFound
from hub.routing import ROLES, Role

CONFIG_NAMESPACE = "urn:govhub:admin:1"
ActorOf = Callable[[Any, "str | None"], str]


class _Model(ComplexModel):  # type: ignore[misc]
    __namespace__ = CONFIG_NAMESPACE


class DepartmentInfo(_Model):
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("code", Unicode),
        ("name", Unicode),
        ("version", Integer),
        ("origin", Unicode),
        ("enabled", Boolean),
        ("adapter", Unicode),
        ("endpoint", Unicode),
    ]


class RouteInfo(_Model):
    _type_info = [  # noqa: RUF012
        ("messageType", Unicode),
        ("role", Unicode),
        ("department", Unicode),
        ("origin", Unicode),
        ("when", Unicode),
        ("enabled", Boolean),
    ]


class VersionInfo(_Model):
    _type_info = [  # noqa: RUF012
        ("version", Integer),
        ("sha256", Unicode),
        ("source", Unicode),
        ("registeredAt", Unicode),
        ("registeredBy", Unicode),
    ]


class DepartmentDetail(_Model):
    _type_info = [  # noqa: RUF012
        ("department", DepartmentInfo),
        ("operations", unbounded(Unicode)),
        ("routes", unbounded(RouteInfo)),
        ("mappings", unbounded(Unicode)),
        ("versions", unbounded(VersionInfo)),
    ]


class ChangeResult(_Model):
    _type_info = [  # noqa: RUF012
        ("subject", Unicode),
        ("changed", Boolean),
        ("version", Integer),
        ("generation", Integer),
        ("warnings", unbounded(Unicode)),
        ("note", Unicode),
        ("endpoint", Unicode),  # reachable | not reachable, when a probe was asked for
    ]


def configuration_service(admin: ConfigurationAdmin, actor_of: ActorOf) -> type[Service]:
    class ConfigurationService(Service):  # type: ignore[misc]
        @rpc(_returns=unbounded(DepartmentInfo))  # type: ignore[untyped-decorator]
        def ListDepartments(ctx: Any) -> list[DepartmentInfo]:
            rows = or_fault(lambda: department_rows(admin.current()))
            return [DepartmentInfo(**row) for row in rows]

        @rpc(Unicode(min_occurs=1), _returns=DepartmentDetail)  # type: ignore[untyped-decorator]
        def ShowDepartment(ctx: Any, code: str) -> DepartmentDetail:
            return or_fault(lambda: _detail(admin, code or ""))

        @rpc(ByteArray(min_occurs=1), Boolean, _returns=ChangeResult)  # type: ignore[untyped-decorator]
        def CheckDepartment(ctx: Any, package: Any, probe: bool | None) -> ChangeResult:
            return or_fault(
                lambda: _result(admin.check(_package(package), probe_endpoint=bool(probe)))
            )

        @rpc(ByteArray(min_occurs=1), Unicode, Boolean, _returns=ChangeResult)  # type: ignore[untyped-decorator]
        def RegisterDepartment(
            ctx: Any, package: Any, actor: str | None, probe: bool | None
        ) -> ChangeResult:
            who = actor_of(ctx, actor)
            return or_fault(
                lambda: _result(admin.register(_package(package), who, probe_endpoint=bool(probe)))
            )

        @rpc(Unicode(min_occurs=1), Unicode, _returns=ChangeResult)  # type: ignore[untyped-decorator]
        def DisableDepartment(ctx: Any, code: str, actor: str | None) -> ChangeResult:
            who = actor_of(ctx, actor)
            return or_fault(lambda: _result(admin.set_enabled(code, False, who)))

        @rpc(Unicode(min_occurs=1), Unicode, _returns=ChangeResult)  # type: ignore[untyped-decorator]
        def EnableDepartment(ctx: Any, code: str, actor: str | None) -> ChangeResult:
            who = actor_of(ctx, actor)
            return or_fault(lambda: _result(admin.set_enabled(code, True, who)))

        @rpc(Unicode(min_occurs=1), Integer(min_occurs=1), Unicode, _returns=ChangeResult)  # type: ignore[untyped-decorator]
        def RollbackDepartment(
            ctx: Any, code: str, version: int, actor: str | None
        ) -> ChangeResult:
            who = actor_of(ctx, actor)
            return or_fault(lambda: _result(admin.rollback(code, version, who)))

        @rpc(Unicode, _returns=unbounded(RouteInfo))  # type: ignore[untyped-decorator]
        def ListRoutes(ctx: Any, messageType: str | None) -> list[RouteInfo]:
            rows = or_fault(lambda: route_rows(admin.current()))
            return [
                RouteInfo(**_route(row))
                for row in rows
                if messageType in (None, "", row["message_type"])
            ]

        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            Unicode,
            unbounded(Unicode),
            Unicode,
            Unicode,
            _returns=ChangeResult,
        )
        def AddRoute(
            ctx: Any,
            messageType: str,
            role: str,
            department: str,
            whenPath: str | None,
            prefixes: list[str] | None,
            equals: str | None,
            actor: str | None,
        ) -> ChangeResult:
            who = actor_of(ctx, actor)

            def add() -> Outcome:
                condition = None
                if whenPath:
                    raw: dict[str, Any] = {"path": whenPath}
                    raw.update({"prefix": list(prefixes)} if prefixes else {"equals": equals})
                    condition = parse_condition(raw, "whenPath")
                return admin.add_route(messageType, department, _role(role), who, condition)

            return or_fault(lambda: _result(add()))

        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            Unicode,
            _returns=ChangeResult,
        )
        def RemoveRoute(
            ctx: Any, messageType: str, role: str, department: str, actor: str | None
        ) -> ChangeResult:
            who = actor_of(ctx, actor)
            return or_fault(
                lambda: _result(admin.remove_route(messageType, department, _role(role), who))
            )

    return ConfigurationService


def _detail(admin: ConfigurationAdmin, code: str) -> DepartmentDetail:
    configuration = admin.current()
    if code not in configuration.departments:
        raise NotFound(f"no department {code}")
    view = department_detail(configuration, code, admin.versions(code))
    return DepartmentDetail(
        department=DepartmentInfo(**department_rows_of(view)),
        operations=[f"{k}={v}" for k, v in view["operations"].items()],
        routes=[RouteInfo(**_route(row)) for row in view["routes"]],
        mappings=view["mappings"],
        versions=[
            VersionInfo(
                version=v["version"],
                sha256=v["sha256"],
                source=v["source"],
                registeredAt=v["registered_at"],
                registeredBy=v["registered_by"],
            )
            for v in view["versions"]
        ],
    )


def department_rows_of(view: dict[str, Any]) -> dict[str, Any]:
    keys = ("code", "name", "version", "origin", "enabled", "adapter", "endpoint")
    return {key: view[key] for key in keys}


def _route(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageType": row["message_type"],
        "role": row["role"],
        "department": row["department"],
        "origin": row["origin"],
        "when": row["when"],
        "enabled": row["enabled"],
    }


def _role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise ClientError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def _package(data: Any) -> Any:
    # spyne hands a ByteArray over as a list of chunks
    raw = b"".join(data) if isinstance(data, list | tuple) else bytes(data or b"")
    return package_from_zip(raw, "package sent over the admin API")


def _result(outcome: Outcome) -> ChangeResult:
    return ChangeResult(
        subject=outcome.subject,
        changed=outcome.changed,
        version=outcome.version,
        generation=outcome.generation,
        warnings=outcome.warnings,
        note=outcome.note,
        endpoint=outcome.endpoint,
    )
