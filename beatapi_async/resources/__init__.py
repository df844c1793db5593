"""One module per BeatAPI resource; each method is one call through ``client._request``.

A resource's module loads when the client first uses it (``client.files``), not with the
package (import time); the names here load the same way (PEP 562 ``__getattr__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .ecommerce_video import EcommerceVideo
    from .files import Files
    from .music_video import MusicVideo
    from .realtime import Realtime
    from .tasks import Tasks
    from .usage import Usages
    from .webhooks import Webhooks
    from .workflows import Workflows

__all__ = ["EcommerceVideo", "Files", "MusicVideo", "Realtime", "Tasks", "Usages", "Webhooks", "Workflows"]

_MODULES = {
    "EcommerceVideo": ".ecommerce_video",
    "Files": ".files",
    "MusicVideo": ".music_video",
    "Realtime": ".realtime",
    "Tasks": ".tasks",
    "Usages": ".usage",
    "Webhooks": ".webhooks",
    "Workflows": ".workflows",
}


if not TYPE_CHECKING:  # type checkers see the real names (imported above for them) and flag a typo
    __getattr__, __dir__ = lazy_attributes(globals(), _MODULES, listed=__all__)
