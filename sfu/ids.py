"""Identifier types of the media plane. The SFU knows these and nothing else."""

from typing import NewType

RouterId = NewType("RouterId", str)
"""One live meeting's media hub."""
TransportId = NewType("TransportId", str)
"""One RTCPeerConnection of one participant (publish or subscribe)."""
ProducerId = NewType("ProducerId", str)
"""One incoming track."""
ConsumerId = NewType("ConsumerId", str)
"""One producer forwarded to one subscriber."""
