"""Per-peer benchmark drivers, each run by that peer's own virtualenv (see :mod:`bench.peers`).

They are run as ``python -m bench.drivers.<peer>`` from the repository root, so they may
import only the standard library, :mod:`bench.drivers._common` and the peer's packages.
"""
