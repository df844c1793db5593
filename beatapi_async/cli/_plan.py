"""``run --dry-run``: what each line would do and cost, the total, and the balance; nothing billable is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import click

from .. import AsyncBeatAPI, BeatAPIError, Estimate
from . import _output as out
from ._common import run_async
from ._lines import Line


def plan_items(
    client: AsyncBeatAPI, lines: list[Line], records: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One item per line: its action (create, wait on a recorded task, skip) and, for a create, its estimate."""
    items = []
    for line in lines:
        recorded = records.get(line.key, {}).get("task_id")
        estimate = None
        if line.error:
            action = "skip"
        elif recorded:
            action = f"wait on {recorded}"
        else:
            action = "create"
            assert line.request is not None
            estimate = client.estimate(line.request)
        items.append(
            {
                "line": line.number,
                "id": line.caller_id,
                "workflow": line.workflow,
                "action": action,
                "error": line.error,
                "estimate": estimate,
            }
        )
    return items


def read_balance(client: AsyncBeatAPI) -> tuple[Decimal | None, str | None]:
    """The account's balance (one ``GET /v1/usage``), or None and why not."""

    async def go() -> Decimal:
        async with client:
            return (await client.usage.get()).credit_balance

    try:
        return run_async(go), None
    except BeatAPIError as exc:
        return None, str(exc)


def print_plan(
    items: list[dict[str, Any]], *, balance: Decimal | None, why_no_balance: str | None, json_out: bool
) -> None:
    """Print each line's plan, then the total of the creates' estimates and the balance."""
    estimates: list[Estimate] = [item["estimate"] for item in items if item["estimate"] is not None]
    total = sum((e.credits for e in estimates), Decimal(0))
    exact = all(e.exact for e in estimates)
    if json_out:
        for item in items:
            estimate = item["estimate"]
            shown = None if estimate is None else {**out.to_jsonable(estimate), "reason": estimate.reason}
            data = {**item, "estimate": shown}
            click.echo(json.dumps(data, ensure_ascii=False))
        summary = {
            "total": {"credits": out.to_jsonable(total), "exact": exact, "unit": "credits", "creates": len(estimates)},
            "balance": out.to_jsonable(balance),
        }
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    for item in items:
        text = f"line {item['line']}: {item['action']}"
        estimate = item["estimate"]
        if estimate is not None:
            text += f" {item['workflow']}: {estimate.reason}"
        elif item["error"]:
            text += f": {item['error']}"
        click.echo(text)
    creates = f"{len(estimates)} create{'s' if len(estimates) != 1 else ''}"
    prefix = "" if exact else "at most "
    click.echo(f"total: {prefix}{out.credits(total)} credits for {creates} (launch prices)")
    if balance is not None:
        short = " (less than the total: creates it cannot cover end unsent)" if balance < total else ""
        click.echo(f"balance: {out.credits(balance)}{short}")
    else:
        click.echo(f"balance: unknown ({why_no_balance or 'no API key'})")
