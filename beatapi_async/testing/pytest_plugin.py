"""The SDK's pytest plugin under the package's name: ``pytest_plugins = ["beatapi_async.testing.pytest_plugin"]``.

The plugin itself is the top-level module ``beatapi_async_pytest`` (what the
``pytest11`` entry point names), so that pytest's start-up does not import the
SDK; this module re-exports its fixtures and hooks.
"""

from beatapi_async_pytest import FIXTURE_SPEED, beatapi_client, fake_beatapi, pytest_configure

__all__ = ["FIXTURE_SPEED", "beatapi_client", "fake_beatapi", "pytest_configure"]
