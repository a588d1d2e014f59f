"""Where the files that ship inside the package live: schemas, mappings, defaults."""

from __future__ import annotations

from pathlib import Path

import mappings
import xsd
from hub import defaults

XSD_ROOT = Path(xsd.__file__).parent
MAPPINGS_ROOT = Path(mappings.__file__).parent
DEFAULTS_ROOT = Path(defaults.__file__).parent

CANONICAL_SCHEMA = "canonical/canonical.xsd"
HEADER_SCHEMA = "hub/header.xsd"
CANONICAL_NAMESPACE = "urn:govhub:canonical:1"
HEADER_NAMESPACE = "urn:govhub:hub:1"
CANONICAL_SCHEMA_VERSION = "1.0"
