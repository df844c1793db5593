"""``beatapi-async create music-video|ecommerce-video``: one task from flags or a JSON file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import click

from .. import AsyncBeatAPI, EcommerceVideoRequest, MusicVideoRequest, RequestValidationError, Task
from . import _output as out
from ._app import show_task
from ._common import run_async, settings
from ._progress import wait_with_progress

TaskRequest = MusicVideoRequest | EcommerceVideoRequest
REQUEST_TYPES: dict[str, type[MusicVideoRequest] | type[EcommerceVideoRequest]] = {
    "music-video": MusicVideoRequest,
    "ecommerce-video": EcommerceVideoRequest,
}


def build_request(workflow: str, fields: Mapping[str, Any]) -> TaskRequest:
    """Validate ``fields`` as a create of ``workflow`` (raises ``RequestValidationError``)."""
    cls = REQUEST_TYPES.get(workflow)
    if cls is None:
        raise RequestValidationError("workflow", f"unknown workflow {workflow!r}: use music-video or ecommerce-video")
    known = {a.name: a for a in attrs.fields(cls)}
    for name in fields:
        if name not in known:
            raise RequestValidationError(name, f"is not a field of {workflow}")
    for name, a in known.items():
        if a.default is attrs.NOTHING and fields.get(name) is None:
            raise RequestValidationError(name, "is required")
    return cls(**{k: v for k, v in fields.items() if v is not None})


def _read_fields(path: str | None, workflow: str) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with click.open_file(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--from-json") from None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{path} is not JSON: {exc.msg} (line {exc.lineno})", param_hint="--from-json"
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a JSON object of fields", param_hint="--from-json")
    given = data.pop("workflow", workflow)
    if given != workflow:
        raise click.BadParameter(f"{path} is a {given!r} request, not {workflow}", param_hint="--from-json")
    return data


def _is_local(value: str) -> bool:
    return "://" not in value and os.path.isfile(value)


URL_FIELDS = ("audio_url", "srt_url", "lip_ref_url")
_STAND_IN = "https://example.com/local-file"


def _looks_like_path(value: str) -> bool:
    # Not a URL of any scheme (data: URLs have no "//"): the user meant a file on disk.
    return "://" not in value and not value.lower().startswith("data:")


def _with_stand_ins(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with each local file replaced by a public URL, to validate before uploading.

    A value that is no URL and names no file is refused as such ("no such file"), not
    as a bad URL.
    """

    def swap(field: str, value: Any) -> Any:
        if not isinstance(value, str) or not _looks_like_path(value):
            return value
        if not os.path.isfile(value):
            raise RequestValidationError(field, f"no such file: {value}")
        return _STAND_IN

    copy = {k: swap(k, v) if k in URL_FIELDS else v for k, v in fields.items()}
    if isinstance(copy.get("images"), list):
        copy["images"] = [swap(f"images[{i}]", v) for i, v in enumerate(copy["images"])]
    return copy


async def _upload_local(client: AsyncBeatAPI, fields: dict[str, Any]) -> None:
    """Upload the local files given for URL fields and put their URLs in place."""
    err = out.console(stderr=True)

    async def url_of(value: Any) -> Any:
        if isinstance(value, str) and _is_local(value):
            file = await client.files.upload(value)
            err.print(f"uploaded {value} -> {file.url}")
            return file.url
        return value

    if isinstance(fields.get("images"), list):
        fields["images"] = [await url_of(v) for v in fields["images"]]
    for name in URL_FIELDS:
        if name in fields:
            fields[name] = await url_of(fields[name])


def _create_command(workflow: str, flags: Callable[[Any], Any]) -> click.Command:
    @click.command(workflow)
    @click.option(
        "--from-json",
        "from_json",
        metavar="FILE",
        help="Read the request's fields from a JSON object in FILE ('-': stdin); flags override.",
    )
    @flags
    @click.option("--wait", is_flag=True, help="Wait for the task to finish (exit 1 if it failed).")
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        default=900,
        show_default=True,
        help="With --wait: give up waiting after this many seconds (0: never).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
    @click.pass_context
    def command(
        ctx: click.Context, /, from_json: str | None, wait: bool, timeout: float, as_json: bool, **given: Any
    ) -> None:
        fields = _read_fields(from_json, workflow)
        images = given.pop("images")
        if images:
            fields["images"] = list(images)
        fields.update({k: v for k, v in given.items() if v is not None})
        # Made first: input URLs on the client's own base URL (a local emulator's uploads) are valid.
        client = settings(ctx).client()
        # Bad input exits 2 before anything is sent (local files stand in as a public URL here).
        build_request(workflow, _with_stand_ins(fields))

        async def go() -> Task:
            async with client:
                await _upload_local(client, fields)
                request = build_request(workflow, fields)
                task = await (
                    client.music_video.create(request)
                    if isinstance(request, MusicVideoRequest)
                    else client.ecommerce_video.create(request)
                )
                if not wait:
                    return task
                out.console(stderr=True).print(f"created {task.id}; waiting (Ctrl-C stops waiting, not the task)")
                return await wait_with_progress(client, task, timeout=timeout or None)

        show_task(ctx, as_json, run_async(go))

    inputs = "Images and audio" if workflow == "music-video" else "Images"
    command.help = f"Create a {workflow.replace('-', ' ')} task. {inputs} may be URLs or local files (uploaded first)."
    return command


def _music_flags(func: Any) -> Any:
    options = [
        click.option("--image", "images", multiple=True, metavar="URL|PATH", help="An image (1-7; repeat the flag)."),
        click.option("--audio", "audio_url", metavar="URL|PATH", help="The song (10-180 s)."),
        click.option("--prompt", help="What the video should show."),
        click.option("--language", help="Lyrics language: en or zh."),
        click.option("--lip-sync/--no-lip-sync", "lip_sync", default=None, help="Sync lips to the vocals."),
        click.option("--lip-ref-url", metavar="URL|PATH", help="Face reference for lip sync."),
        click.option("--style", help="A visual style."),
        click.option("--quality", help="standard or high."),
        click.option("--aspect-ratio", help="1:1, 16:9, 9:16, 4:3 or 3:4."),
        click.option("--resolution", help="540p, 720p or 1080p."),
        click.option("--subtitle/--no-subtitle", "add_subtitle", default=None, help="Burn in subtitles."),
        click.option("--subtitle-color", metavar="#RRGGBB", help="Subtitle colour."),
        click.option("--srt", "srt_url", metavar="URL|PATH", help="Subtitles (.srt)."),
        click.option("--duration", type=int, help="Seconds of the song to use."),
        click.option("--compose-mode", help="auto, or manual (storyboard first; edit shots; then compose)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _ecommerce_flags(func: Any) -> Any:
    options = [
        click.option("--image", "images", multiple=True, metavar="URL|PATH", help="A product image (1-7; repeat)."),
        click.option("--duration", type=int, help="Video length in seconds (10-60)."),
        click.option("--prompt", help="What the ad should say or show."),
        click.option("--aspect-ratio", help="16:9, 9:16 or 1:1."),
        click.option("--language", help="en or zh."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def create() -> None:
    """Create a task (see also `run` for many)."""


create.add_command(_create_command("music-video", _music_flags))
create.add_command(_create_command("ecommerce-video", _ecommerce_flags))
