"""Canonical model versions side by side (issue 18; docs/versions.md).

Contract:
- xsd/canonical/versions.toml declares, per message type, every version beyond 1.0: its
  schema (its own namespace, urn:govhub:canonical:N), the version it follows, the
  conversions up to it and down from it (mapping files, the department mappings' language),
  what the down conversion loses (``lossy``), its status, and example pairs.
- Registration (``ModelVersions(...)``, at start and by `govhub versions check`) compiles
  every conversion and runs every example both ways; a gap in a chain, a conversion that
  fails its own examples, or a retired version a department's mapping still reads is
  refused with a ConfigurationError naming it.
- Ingress: a Submit's header ``schemaVersion`` picks the version (``accept``): unknown ->
  UnknownSchemaVersion, retired -> RetiredSchemaVersion naming the version to use, deprecated
  -> accepted with a warning and ``govhub_deprecated_version_accepted``. The record is stored
  as received (``messages.schema_version``); routing and the identity index read its 1.0 form.
- Delivery: a receiver gets the version its outbound mapping reads (the package declares it
  by its mapping's ``[source]`` schema), converted through the chain from the stored version;
  ``deliveries.schema_version`` records the version delivered. Replay converts the same way,
  so a pinned old mapping gets the version it was written for.
"""

from hub.versions.catalog import BASE_VERSION, ModelVersion, Step, VersionTable, read_versions
from hub.versions.model import Accepted, ModelVersions, default_versions

__all__ = [
    "BASE_VERSION",
    "Accepted",
    "ModelVersion",
    "ModelVersions",
    "Step",
    "VersionTable",
    "default_versions",
    "read_versions",
]
