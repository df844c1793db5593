"""One module per BeatAPI resource; each method is one call through ``client._request``."""

from .ecommerce_video import EcommerceVideo
from .files import Files
from .music_video import MusicVideo
from .realtime import Realtime
from .tasks import Tasks
from .usage import Usages
from .webhooks import Webhooks
from .workflows import Workflows

__all__ = ["EcommerceVideo", "Files", "MusicVideo", "Realtime", "Tasks", "Usages", "Webhooks", "Workflows"]
