"""``import mesa`` without Mesa 3.3's stack scans (start-up time).

At import, ``mesa.model`` names its loggers by looking at the stack:
``mesa.mesa_logging.create_module_logger`` calls ``inspect.stack()`` and
``inspect.getmodule`` on its caller's frame, and ``method_logger`` calls
``inspect.getouterframes(inspect.currentframe())``. They use only the frame objects, the
module of one frame (for its ``__name__``) and one function name, but ``inspect`` works out
a source file, reads the source lines and looks the module up for every one of the ~40
frames of a command's stack, and each frame whose file is not a loaded module's (the
import system's ``<frozen ...>`` frames) makes ``inspect.getmodule`` walk all of
``sys.modules`` again, the first time with a ``realpath`` of every module's file
(~40-70 ms of a warm ``market-sim run``). :func:`light_frame_lookups` answers those three
calls from the frames themselves while mesa is imported (:func:`import_mesa`), and puts
``inspect`` back afterwards.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any


def _outer_frames(frame: types.FrameType | None, context: int = 1) -> list[inspect.FrameInfo]:
    """``inspect.getouterframes(frame)`` without source lookups: each frame with its
    code's file name, current line and function name (no ``code_context``)."""
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return frames


def _stack(context: int = 1) -> list[inspect.FrameInfo]:
    """``inspect.stack()`` without source lookups (:func:`_outer_frames`)."""
    return _outer_frames(sys._getframe(1), context)


@contextlib.contextmanager
def light_frame_lookups() -> Iterator[None]:
    """Within the block, ``inspect.stack``, ``inspect.getouterframes`` and
    ``inspect.getmodule`` of a frame answer from the frame objects: the same frames and
    function names without reading source files, and a frame's module as the loaded
    module whose namespace the frame runs in (else ``inspect.getmodule`` as usual).
    Restored on leaving, also after an error. Not thread-safe: for start-up only."""
    saved = inspect.stack, inspect.getouterframes, inspect.getmodule
    getmodule = saved[2]

    def frame_module(obj: Any, _filename: str | None = None) -> types.ModuleType | None:
        if isinstance(obj, types.FrameType):
            module = sys.modules.get(obj.f_globals.get("__name__", ""))
            if module is not None and getattr(module, "__dict__", None) is obj.f_globals:
                return module
        return getmodule(obj, _filename)

    inspect.stack, inspect.getouterframes, inspect.getmodule = (
        _stack,
        _outer_frames,
        frame_module,
    )
    try:
        yield
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = saved


def import_mesa() -> types.ModuleType:
    """``import mesa`` with :func:`light_frame_lookups` around the import of ``mesa.model``
    (nothing different when it is imported already)."""
    if "mesa.model" in sys.modules:
        import mesa

        return mesa
    with light_frame_lookups():
        import mesa
    return mesa
