"""Cases filed the way departments file them: each event recorded through the hub's real case
book, at the time the hub heard of it (``reported``, default a minute after it happened), and
the worker service's real signal pass run at a chosen time. Used by the statistics and console
tests; the story they share is ``october_cases``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from test_supervision_cli import APPLICANT, SHANGHAI, message

from hub.supervision import load_calendar
from hub.supervision.casebook import CaseBook
from hub.supervision.catalogue import CatalogueFile
from hub.supervision.signals import SignalIssuer

CATALOGUE = Path(__file__).parent.parent / "hub" / "defaults" / "supervision_items.toml"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class Cases:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.catalogue = CatalogueFile(CATALOGUE)
        self.department: dict[str, str] = {}

    def accept(
        self, case: str, item: str, dept: str, when: datetime, reported: datetime | None = None
    ) -> None:
        self.department[case] = dept
        applicant = f"<c:identityNumber>{APPLICANT}</c:identityNumber>"
        self._record(
            case,
            "CaseAccepted",
            f"<c:itemCode>{item}</c:itemCode><c:caseNumber>{case}</c:caseNumber>"
            f"<c:applicant>{applicant}</c:applicant><c:acceptedAt>{when.isoformat()}</c:acceptedAt>"
            f"<c:department>{dept}</c:department>",
            reported or when + timedelta(minutes=1),
        )

    def step(self, case: str, step: str, when: datetime, handler: str = "李明") -> None:
        body = f"<c:step>{step}</c:step><c:handler>{handler}</c:handler>"
        self._event(case, "CaseStepCompleted", body + _time("completedAt", when), when)

    def suspend(self, case: str, when: datetime, reason: str) -> None:
        body = _time("suspendedAt", when) + (f"<c:reason>{reason}</c:reason>" if reason else "")
        self._event(case, "CaseSuspended", body, when)

    def resume(self, case: str, when: datetime) -> None:
        self._event(case, "CaseResumed", _time("resumedAt", when), when)

    def conclude(self, case: str, when: datetime, outcome: str = "approved") -> None:
        body = f"<c:outcome>{outcome}</c:outcome>" + _time("concludedAt", when)
        self._event(case, "CaseConcluded", body, when)

    def signal_pass(self, when: datetime) -> None:
        """The worker service's pass, as it would run at ``when``."""
        book = CaseBook(self.engine, self.catalogue.current)
        SignalIssuer(self.engine, book, load_calendar(), report_hours=24).run_once(when)

    def _event(self, case: str, kind: str, body: str, when: datetime) -> None:
        number = f"<c:caseNumber>{case}</c:caseNumber>"
        self._record(case, kind, number + body, when + timedelta(minutes=1))

    def _record(self, case: str, kind: str, body: str, reported: datetime) -> None:
        event = replace(message(kind, body), sender=self.department[case])
        CaseBook(self.engine, self.catalogue.current, clock=lambda: reported).record(event)


def _time(name: str, when: datetime) -> str:
    return f"<c:{name}>{when.isoformat()}</c:{name}>"


def october_cases(engine: Engine) -> Cases:
    """October 2026 around National Day (1-7 October off, Saturday 10 October worked):

    MZ-A  marriage, accepted 8 Oct, concluded 9 Oct: on time, 1 working day
    MZ-B  marriage, accepted 30 Sep (committed due 10 Oct), concluded 12 Oct: late, 4 days;
          a yellow light in the pass of 9 Oct, a red card in the pass of 12 Oct
    SB-A  social security, accepted 8 Oct, suspended for material 8-12 Oct (2 working days
          stopped), concluded 13 Oct: on time, 2 working days
    SB-B  social security, accepted 9 Oct, reported 33 hours later (a yellow card), still open
    """
    cases = Cases(engine)
    marriage, social = ("MZ-HYDJ-001", "MARRIAGE_REGISTRY"), ("SB-CBDJ-001", "SOCIAL_SECURITY")
    cases.accept("MZ-B", *marriage, at(9, 30))
    cases.accept("MZ-A", *marriage, at(10, 8, 9))
    cases.accept("SB-A", *social, at(10, 8, 9))
    cases.suspend("SB-A", at(10, 8, 10), "补正: 缺少户口簿复印件")
    for step, day in (("handled", 8), ("reviewed", 9)):
        cases.step("MZ-B", step, at(10, day, 11))
    for step in ("handled", "reviewed", "approved"):
        cases.step("MZ-A", step, at(10, 8 if step == "handled" else 9, 12))
    cases.conclude("MZ-A", at(10, 9, 14))
    cases.accept("SB-B", *social, at(10, 9, 9), reported=at(10, 10, 18))
    cases.signal_pass(at(10, 9, 16))
    cases.resume("SB-A", at(10, 12, 9))
    cases.step("SB-A", "handled", at(10, 12, 11))
    cases.signal_pass(at(10, 12, 16))
    cases.step("MZ-B", "approved", at(10, 12, 17))
    cases.conclude("MZ-B", at(10, 12, 18))
    cases.step("SB-A", "reviewed", at(10, 13, 10))
    cases.conclude("SB-A", at(10, 13, 11))
    return cases


def open_cases(cases: Cases) -> None:
    """Open cases beside ``october_cases`` for the board, as the rules see them on 12 October
    10:00: MZ-E red (its committed deadline, moved a day by its suspension, was 10 October),
    MZ-C a yellow card (step handled overdue) and SB-B one (reported late), MZ-D a yellow
    light (due 13 October), SB-C on time (suspended; its reason names the applicant)."""
    marriage, social = ("MZ-HYDJ-001", "MARRIAGE_REGISTRY"), ("SB-CBDJ-001", "SOCIAL_SECURITY")
    cases.accept("MZ-E", *marriage, at(9, 29, 9))
    cases.step("MZ-E", "handled", at(9, 30, 10))
    cases.suspend("MZ-E", at(9, 30, 15), f"补正: 申请人 {APPLICANT} 的户口簿复印件不清晰")
    cases.resume("MZ-E", at(10, 9, 9))
    cases.accept("MZ-C", *marriage, at(10, 9, 9))
    cases.accept("MZ-D", *marriage, at(10, 9, 9))
    cases.step("MZ-D", "handled", at(10, 10, 9))
    cases.accept("SB-C", *social, at(10, 12, 8))
    cases.suspend("SB-C", at(10, 12, 9), "补正: 缺少参保人身份证复印件")
