"""Federation: hubs at three levels (province, city, county; GB/T 2260 division codes) that
forward messages to each other hop by hop.

  config       this hub's division and its neighbours (parent, children), from a TOML file
               read again when it changes (``GOVHUB_FEDERATION_FILE``)
  addressing   ``DIVISION/CODE`` addresses and the next hop towards a division
  admission    a forward arriving from a neighbour: who sent it, loops, where it goes
  forwarder    a leg to ``DIVISION/CODE`` delivered by Submit to the next hop, as a delivery
               like any other (retries, replay, attempts)
  header       the header's forwardedTo and hubPath, read back from a stored request
  status       /federation/status: a neighbour asks how its forward went (asked on in turn)
  trace        `govhub trace` across hubs
"""

from hub.federation.addressing import is_remote, split_address
from hub.federation.config import FederationConfig, LiveFederation, Neighbour

__all__ = ["FederationConfig", "LiveFederation", "Neighbour", "is_remote", "split_address"]
