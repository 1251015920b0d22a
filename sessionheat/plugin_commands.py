"""Commands that other packages add to `sessionheat`, through the `sessionheat.commands` entry points.

A package declares, in its pyproject.toml::

    [project.entry-points."sessionheat.commands"]
    demo = "demo.cli:demo_command"

and `sessionheat demo` runs that click command. This is how the bundled demo reaches the CLI without
the product importing it. A command's module is imported only when the command runs or help is
shown (help lists each command's first line, so keep such modules cheap to import: click and the
CLI's shared options, the heavy imports inside the command). A plugin that cannot be loaded is listed
with the reason and fails alone, with that reason; every other command keeps working.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

ENTRY_POINT_GROUP = "sessionheat.commands"


class PluginGroup(click.Group):
    """A click group holding its own commands plus those declared under `ENTRY_POINT_GROUP`.

    A built-in command keeps its name: a plugin declaring the same name is not loaded."""

    def __init__(self, *args: Any, entry_point_group: str = ENTRY_POINT_GROUP, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry_point_group = entry_point_group
        self._declared: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, click.Command] = {}

    def declared(self) -> dict[str, EntryPoint]:
        """The plugin commands installed packages declare, by name (read once: metadata, no import)."""
        if self._declared is None:
            self._declared = {ep.name: ep for ep in entry_points(group=self.entry_point_group)
                              if ep.name not in self.commands}
        return self._declared

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.declared()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry_point = self.declared().get(cmd_name)
        if entry_point is None:
            return None
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name, entry_point)
        return self._loaded[cmd_name]


def load_command(name: str, entry_point: EntryPoint) -> click.Command:
    """The click command an entry point names, or a stand-in that says why it cannot be loaded."""
    try:
        command = entry_point.load()
    except Exception as exc:  # noqa: BLE001 - whatever a plugin's bug raises, it fails alone
        return unloadable_command(name, entry_point, f"{type(exc).__name__}: {exc}")
    if not isinstance(command, click.Command):
        return unloadable_command(name, entry_point, f"{type(command).__name__} is not a click command")
    return command


def unloadable_command(name: str, entry_point: EntryPoint, reason: str) -> click.Command:
    """A command that only fails, whatever its arguments (--help too), naming the plugin and why."""
    where = entry_point.value + (f" (package {entry_point.dist.name})" if entry_point.dist else "")
    message = f"the {name!r} command, {where}, cannot be loaded: {reason}"

    def fail(args: tuple[str, ...]) -> None:
        raise click.ClickException(message)

    return click.Command(
        name, callback=fail, params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        help=f"(cannot be loaded: {reason})", add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
