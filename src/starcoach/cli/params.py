"""What every command's parameters share: a value typed on the command line is never empty.

An empty value is a shell variable that was not set (``--lp "$LP"``, ``analyze "$FILE"``), and
each command used to read it its own way: a file name became the current folder (". is a
folder"), a filter filtered nothing and listed every take, a model name fell back to the
configured one. Each parameter now refuses it, one line naming the parameter, before the
command runs.
"""

from __future__ import annotations

from typing import Any

try:  # typer 0.2x carries its own copy of click
    from typer._click import exceptions as clickx
    from typer._click.core import ParameterSource
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as clickx  # type: ignore[no-redef]
    from click.core import ParameterSource  # type: ignore[assignment]

_CHECKED = "_starcoach_not_empty"


def refuse_empty_values(command: Any) -> None:
    """Make each of ``command``'s parameters refuse an empty value given on the command line
    (its own defaults are the command's business); safe to call again on the same command."""
    for param in getattr(command, "params", ()):
        if getattr(param, _CHECKED, False):
            continue
        process = param.process_value

        def checked(ctx: Any, value: Any, _param: Any = param, _process: Any = process) -> Any:
            given = ctx.get_parameter_source(_param.name) == ParameterSource.COMMANDLINE
            values = value if isinstance(value, (tuple, list)) else (value,)
            if given and any(v == "" for v in values):  # " " may name a file: only nothing is refused
                raise clickx.BadParameter("it is empty (as an unset shell variable gives); type the value",
                                          ctx=ctx, param=_param)
            return _process(ctx, value)

        param.process_value = checked
        setattr(param, _CHECKED, True)
