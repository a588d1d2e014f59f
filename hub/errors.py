"""The one exception tree of govhub.

    HubError                       every error the hub raises on purpose
    ├── ClientError                the caller sent something we refuse (SOAP "Client.*")
    │   ├── MalformedXML           not well-formed, hostile (DTD, entities), bad encoding
    │   ├── MalformedJSON          not JSON, not UTF-8, not an object, nested too deep
    │   ├── BodyTooLarge           over the configured size limit
    │   ├── SchemaInvalid          well-formed but violates a schema (path and line kept)
    │   │   ├── UnknownSchemaVersion a schemaVersion the hub has no schema for (hub/versions)
    │   │   └── RetiredSchemaVersion a retired canonical version (names the one to use)
    │   ├── InvalidIdentityNumber  GB 11643 check character does not match
    │   ├── UnknownMessageType     no schema / route for this message type
    │   ├── UnknownSender          the sender is not a registered department
    │   ├── NotAuthenticated       WS-Security missing or wrong (token, digest, nonce, signature)
    │   │   └── LoginLocked        too many failed console logins (account or address)
    │   ├── NotAuthorized          the sender may not send this message type
    │   │   └── FormExpired        a console form's CSRF token is not its session's
    │   ├── MappingError           a record cannot be translated (missing field, unknown code)
    │   ├── ReasonRequired         identity numbers revealed without a reason for the audit log
    │   ├── IdempotencyConflict    the sender's idempotency key already names another record
    │   ├── MessageIdTaken         the message id is already taken (whose is not said)
    │   ├── UnknownPart            a Query asks for a part the hub does not know (hub/query)
    │   ├── CaseEventRefused       a case event breaks a rule of the case's life (hub/supervision)
    │   │   ├── UnknownItem          its item code is not in the supervision catalogue
    │   │   ├── UnknownCase          no case with that number was accepted
    │   │   ├── StepOutOfOrder       a step early or twice, an event after conclusion or too early
    │   │   ├── EventInFuture        dated later than the hub's clock (beyond the allowed skew)
    │   │   └── ReasonMissing        a refusal without its reason
    │   ├── MailboxRefused         a Receive, Ack or Nack the mailbox cannot honour (hub/mailbox)
    │   │   ├── NoMailbox            the caller's department has no mailbox (it is pushed to)
    │   │   ├── UnknownLease         no lease of the caller's has this token
    │   │   ├── LeaseExpired         the lease ran out (the message is, or will be, received again)
    │   │   └── AlreadyAcknowledged  the lease was already acknowledged or given back
    │   └── BatchInvalid           a batch file the hub cannot read as one (hub/batch): not a
    │                              workbook, too large, a column missing (row and column named)
    ├── ConfigurationError         a settings, department, route or mapping file is wrong
    │   └── RuleSetRefused         a rule set that does not compile or fails its own examples
    ├── ConditionFailed            a route condition could not be evaluated on a record
    ├── AuditChainBroken           the audit log was edited, or entries inserted or deleted
    ├── DecryptionFailed           stored data sealed with a missing key, or tampered with
    ├── ExportInvalid              a signed audit export fails its signature, hash or chain
    ├── CheckpointInvalid          an audit checkpoint file is unreadable or fails its signature
    ├── NotFound                   an id the caller asked about does not exist
    ├── CalendarYearUnknown        a date in a year the working-day calendar has no schedule for
    ├── BusUnavailable             the message bus cannot be reached (the relay republishes later)
    ├── StoreUnavailable           the database cannot take the message now (try again)
    ├── Busy                       too many request bytes in flight for too long (try again)
    ├── NodeError                  the exchange node cannot go on (hub/node)
    │   ├── HubRefusedNode           the hub refuses the node's credentials or mailbox
    │   ├── HubUnreachable           the hub is down or answers a server fault (retried)
    │   └── HandoverFailed           the department's system did not take a message (retried)
    └── DeliveryError              a department did not take a delivery
        ├── RetryableDeliveryError   down, timeout, HTTP 5xx, SOAP Server fault: try again later
        └── PermanentDeliveryError   the department rejects the content: HTTP 4xx, SOAP Client fault

Each error carries a stable ``code`` (used as the SOAP fault code) and an optional ``detail``
that names the schema path and line, or the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HubError(Exception):
    """Base of every error govhub raises on purpose."""

    code = "Server.Error"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message} ({self.detail})"


class ClientError(HubError):
    code = "Client.Error"


class MalformedXML(ClientError):
    code = "Client.MalformedXML"


class MalformedJSON(ClientError):
    code = "Client.MalformedJSON"


class BodyTooLarge(ClientError):
    code = "Client.BodyTooLarge"


class SchemaInvalid(ClientError):
    code = "Client.SchemaInvalid"

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.path = path
        self.line = line


class InvalidIdentityNumber(ClientError):
    """``path`` names the element that holds the number, when it came in XML."""

    code = "Client.InvalidIdentityNumber"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message, detail=path)
        self.path = path


class UnknownMessageType(ClientError):
    code = "Client.UnknownMessageType"


class UnknownPart(ClientError):
    """A query asked for a part of the CitizenDossier no route answers."""

    code = "Client.UnknownPart"


class UnknownSender(ClientError):
    code = "Client.UnknownSender"


class NotAuthenticated(ClientError):
    """The request does not prove who sent it; the message says what is missing, never a secret."""

    code = "Client.NotAuthenticated"


class NotAuthorized(ClientError):
    code = "Client.NotAuthorized"


class LoginLocked(NotAuthenticated):
    """Too many failed console logins for the account or from the address (hub/console)."""

    code = "Client.LoginLocked"


class FormExpired(NotAuthorized):
    """A console form whose CSRF token is not the session's: forged, or from an old page."""

    code = "Client.FormExpired"


class ReasonRequired(ClientError):
    """Revealing identity numbers is audited with its reason; an empty one is refused."""

    code = "Client.ReasonRequired"


class MappingError(ClientError):
    code = "Client.MappingError"


class IdempotencyConflict(ClientError):
    """The sender already sent a different record with this idempotency key: the new one is
    refused, never dropped as a repeat. Names the key (masked) and the first message's id."""

    code = "Client.IdempotencyConflict"

    def __init__(self, idempotency_key: str, first_message_id: str) -> None:
        super().__init__(
            f"idempotency key {idempotency_key} was already used for a different record "
            f"(message {first_message_id}); send a new record with a new idempotency key",
            detail=f"first message {first_message_id}",
        )
        self.idempotency_key = idempotency_key
        self.first_message_id = first_message_id


class MessageIdTaken(ClientError):
    """A Submit's message id is already taken. The same code and text whoever took it, so
    the answer does not tell a department whether another department's message has it."""

    code = "Client.MessageIdTaken"


class CaseEventRefused(ClientError):
    """A case event the hub refuses: nothing of it is stored and the case stays as it was.
    ``rule`` names the rule it breaks, for the sender's developers and the audit log."""

    code = "Client.CaseEventRefused"

    def __init__(self, case_number: str, rule: str) -> None:
        super().__init__(f"case {case_number}: {rule}", detail=f"rule: {type(self).__name__}")
        self.case_number = case_number
        self.rule = rule


class UnknownItem(CaseEventRefused):
    code = "Client.UnknownItem"


class UnknownCase(CaseEventRefused):
    code = "Client.UnknownCase"


class StepOutOfOrder(CaseEventRefused):
    code = "Client.StepOutOfOrder"


class EventInFuture(CaseEventRefused):
    code = "Client.EventInFuture"


class ReasonMissing(CaseEventRefused):
    code = "Client.ReasonMissing"


class MailboxRefused(ClientError):
    code = "Client.MailboxRefused"


class NoMailbox(MailboxRefused):
    code = "Client.NoMailbox"


class UnknownLease(MailboxRefused):
    """A token no Receive gave out, or gave another department: both answered alike."""

    code = "Client.UnknownLease"


class LeaseExpired(MailboxRefused):
    code = "Client.LeaseExpired"


class AlreadyAcknowledged(MailboxRefused):
    code = "Client.AlreadyAcknowledged"


class PeriodInvalid(ClientError):
    """A statistics period that is neither a month (2026-10) nor a ten-day period (2026-10-1,
    -2 or -3: 旬) (hub/supervision/periods.py)."""

    code = "Client.PeriodInvalid"


class BatchInvalid(ClientError):
    """A batch file (hub/batch) refused as a whole; the message names the row, the column
    or the limit."""

    code = "Client.BatchInvalid"


class FederationRefused(ClientError):
    """A forward between hubs refused (hub/federation): the message names the hub or the
    division."""

    code = "Client.FederationRefused"


class NotNeighbour(FederationRefused):
    code = "Client.NotNeighbour"


class UnknownDivision(FederationRefused):
    code = "Client.UnknownDivision"


class LoopRefused(FederationRefused):
    code = "Client.LoopRefused"


class BundleRefused(ClientError):
    """A transfer bundle (hub/bundle) refused as a whole: nothing of it was imported."""

    code = "Client.BundleRefused"


class BundleInvalid(BundleRefused):
    """Truncated, damaged or altered (one flipped byte is enough), or not a govhub bundle."""

    code = "Client.BundleInvalid"


class BundleUnknownSigner(BundleRefused):
    """Signed by a hub whose public key this hub was not given (or not with that key)."""

    code = "Client.BundleUnknownSigner"


class BundleForAnotherNetwork(BundleRefused):
    code = "Client.BundleForAnotherNetwork"


class BundleDuplicate(BundleRefused):
    """This bundle id is in the ledger of imported bundles already."""

    code = "Client.BundleDuplicate"


class ConfigurationError(HubError):
    code = "Server.ConfigurationError"


class RegistrationRefused(ConfigurationError):
    """A department registration or route change failed its checks; ``reasons`` lists them
    all (each naming its file and field), and nothing was changed."""

    code = "Client.RegistrationRefused"

    def __init__(self, subject: str, reasons: list[str]) -> None:
        super().__init__(f"{subject} refused: " + "; ".join(reasons))
        self.reasons = list(reasons)


class RuleSetRefused(ConfigurationError):
    """A batch rule set (hub/batch) refused when registered: a rule that does not compile,
    or fails one of the set's own examples; the message names the rule."""

    code = "Client.RuleSetRefused"


class ConditionFailed(HubError):
    """A route condition failed on one record: that receiver is skipped for that message
    (its leg says why); never a fault for the sender."""

    code = "Server.ConditionFailed"


class AuditChainBroken(HubError):
    """``seq`` is the first audit entry where the hash chain does not hold."""

    code = "Server.AuditChainBroken"

    def __init__(self, message: str, *, seq: int, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.seq = seq


class DecryptionFailed(HubError):
    code = "Server.DecryptionFailed"


class ExportInvalid(HubError):
    code = "Server.ExportInvalid"


class CheckpointInvalid(HubError):
    code = "Server.CheckpointInvalid"


class NotFound(HubError):
    code = "Client.NotFound"


class CalendarYearUnknown(HubError):
    """A working-day question about a year with no holiday schedule (hub/supervision): the
    answer would be a guess, so there is none. ``year`` is the missing year."""

    code = "Server.CalendarYearUnknown"

    def __init__(self, year: int, known: str, how_to_extend: str = "") -> None:
        super().__init__(
            f"no working-day calendar for {year} (known years: {known}); "
            + (how_to_extend or f"add {year}'s holidays and working weekends to the calendar"),
            detail=f"missing year {year}",
        )
        self.year = year


class BusUnavailable(HubError):
    code = "Server.BusUnavailable"

    def __init__(self, message: str, unpublished: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.unpublished = tuple(unpublished)  # the tasks a publish did not send


class StoreUnavailable(HubError):
    code = "Server.Unavailable"


class NodeError(HubError):
    code = "Node.Error"


class HubRefusedNode(NodeError):
    """The hub answered the node with a fault no retry can mend (its credentials, its
    mailbox): the node stops rather than poll in vain."""

    code = "Node.HubRefused"


class HubUnreachable(NodeError):
    code = "Node.HubUnreachable"


class HandoverFailed(NodeError):
    """The department's system did not take a message (folder not writable, URL not 2xx);
    the message is not acknowledged and comes back."""

    code = "Node.HandoverFailed"


class HandoverRefused(HandoverFailed):
    """The department's system refused a message for good (its local URL answered 4xx): the
    node gives it back to the hub with Nack, without retry; its leg fails with the reason."""

    code = "Node.HandoverRefused"


class Busy(HubError):
    """The request waited its turn for the in-flight byte budget (hub/api/admission.py) and
    did not get it; nothing of it was read or stored."""

    code = "Server.Busy"


class DeliveryError(HubError):
    code = "Server.DeliveryError"


class RetryableDeliveryError(DeliveryError):
    code = "Server.Unavailable"


class PermanentDeliveryError(DeliveryError):
    code = "Server.Rejected"


class UnknownSchemaVersion(SchemaInvalid):
    """A header's schemaVersion the hub has no schema for, for that message type (the
    reason names the versions it speaks). A Client.SchemaInvalid, as before versions."""


class RetiredSchemaVersion(SchemaInvalid):
    """A canonical version no longer accepted; the reason names the version to use."""
