"""govhub: a government data-exchange hub."""

from hub.compat import install as _install_compat

_install_compat()
