"""``python -m peer``: the same program as ``supportlink-peer`` (and the entry point of the
one-file build, ``scripts/build-peer``)."""

import sys

from peer.cli import main

sys.exit(main())
