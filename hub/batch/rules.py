"""Rule sets: which rows of a batch pass, as data. A rule set is named, per message type,
with parameters (minimum age at marriage, division codes of a county, ...) and rules, each
an id, a plain-language message and an expression in rule-engine's side-effect-free language
(never Python's eval) over the row's columns, the layout's derived ages, the parameters and
``today``. A set is refused (RuleSetRefused naming the rule) when a rule does not compile,
names a column the layout does not have, or fails one of the set's own examples.

A rule set file (TOML):

    name = "marriage-county"
    message_type = "MarriageRegistered"
    [parameters]
    min_age_male = 22
    [[rules]]
    id = "min-age-a"
    column = "partyA_birthDate"       # the cell a failure marks
    message = "party A is under the minimum age at marriage"
    expression = "partyA_age == null or partyA_age >= min_age_male"
    [[examples]]
    rule = "min-age-a"
    values = { partyA_age = 21 }
    passes = false
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import rule_engine

from hub.batch.layouts import layout_for
from hub.errors import RuleSetRefused


@dataclass(frozen=True)
class Rule:
    id: str
    message: str
    expression: str
    column: str | None


@dataclass(frozen=True)
class RuleSet:
    name: str
    message_type: str
    parameters: dict[str, Any]
    rules: tuple[Rule, ...]
    examples: tuple[dict[str, Any], ...] = ()
    version: int = 0  # 0 until registered
    _compiled: dict[str, rule_engine.Rule] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def failed_rules(self, values: dict[str, Any], today: date | None = None) -> list[Rule]:
        """The rules a row's values break (a rule that cannot be evaluated on them breaks)."""
        scope = {**self.parameters, **values, "today": today or datetime.now(UTC).date()}
        return [r for r in self.rules if not _matches(self._compiled[r.id], scope)]

    def definition(self) -> dict[str, Any]:
        """The set as data, as its file gives it (what a version stores)."""
        return {
            "name": self.name,
            "message_type": self.message_type,
            "parameters": self.parameters,
            "rules": [{k: v for k, v in r.__dict__.items() if v is not None} for r in self.rules],
            "examples": list(self.examples),
        }


def parse_rule_set(text: str) -> RuleSet:
    try:
        return compiled(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetRefused(f"the rule set is not TOML: {exc}") from exc


def compiled(definition: dict[str, Any], version: int = 0) -> RuleSet:
    """The rule set, every rule compiled and every example run; RuleSetRefused otherwise."""
    try:
        name, message_type = str(definition["name"]), str(definition["message_type"])
        rules = tuple(
            Rule(str(r["id"]), str(r["message"]), str(r["expression"]), r.get("column"))
            for r in definition.get("rules", ())
        )
    except (KeyError, TypeError) as exc:
        raise RuleSetRefused(f"a rule set needs a name, a message_type and rules: {exc}") from exc
    layout = layout_for(message_type)
    parameters = dict(definition.get("parameters", {}))
    known = layout.symbols() | set(parameters) | {"today"}
    rule_set = RuleSet(
        name, message_type, parameters, rules, tuple(definition.get("examples", ())), version
    )
    for rule in rules:
        rule_set._compiled[rule.id] = _compile(rule, known)
    _run_examples(rule_set)
    return rule_set


def _compile(rule: Rule, known: set[str]) -> rule_engine.Rule:
    unknown = rule.column is not None and rule.column not in known
    if unknown:
        raise RuleSetRefused(f"rule {rule.id} marks column {rule.column}, which there is not")
    # A name that is no column, age or parameter is refused here: a typo would fail every row.
    types = rule_engine.type_resolver_from_dict(
        dict.fromkeys(known, rule_engine.DataType.UNDEFINED)
    )
    context = rule_engine.Context(type_resolver=types, resolver=_from_row)
    try:
        return rule_engine.Rule(rule.expression, context=context)
    except rule_engine.errors.EngineError as exc:
        raise RuleSetRefused(f"rule {rule.id} does not compile: {exc.message}") from exc


def _from_row(row: dict[str, Any], name: str) -> Any:
    return row.get(name)


def _run_examples(rule_set: RuleSet) -> None:
    rules = {r.id: r for r in rule_set.rules}
    for number, example in enumerate(rule_set.examples, start=1):
        rule = rules.get(str(example.get("rule")))
        if rule is None:
            raise RuleSetRefused(f"example {number} names rule {example.get('rule')!r}, unknown")
        scope = {**rule_set.parameters, "today": date.today(), **_dates(example["values"])}
        if _matches(rule_set._compiled[rule.id], scope) != bool(example["passes"]):
            expected = "pass" if example["passes"] else "fail"
            raise RuleSetRefused(
                f"rule {rule.id} fails example {number}: "
                f"it should {expected} on {example['values']}"
            )


def _dates(values: dict[str, Any]) -> dict[str, Any]:
    """An example's ISO dates as dates, as a row's date columns are."""
    return {k: _maybe_date(v) for k, v in values.items()}


def _maybe_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _matches(rule: rule_engine.Rule, scope: dict[str, Any]) -> bool:
    try:
        return bool(rule.matches(scope))
    except rule_engine.errors.EngineError:
        return False
