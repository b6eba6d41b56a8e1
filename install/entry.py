"""The Scripts-menu entry: a small file in Resolve's Scripts folder that starts the bridge and the worker.

It runs on whatever Python Resolve uses (3.6 or later, or Resolve 21.1's own), so the rendered file
is standard library only and valid Python 3.6. It records the interpreter of the environment
promptreel is installed in, the bridge's folder in that environment, and promptreel's data folder.
"""

from __future__ import annotations

MARKER = "# promptreel-entry: 1"

TEMPLATE = """# promptreel: AI video generation inside the edit.
# Written by `promptreel resolve install`; `promptreel resolve uninstall` removes it.
{marker}
PYTHON = {python!r}
BRIDGE = {bridge!r}
DATA = {data!r}

import importlib.util
import os
import sys


def _get_resolve():
    try:
        return resolve  # noqa: F821  (Resolve defines it for Workspace > Scripts)
    except NameError:
        pass
    try:
        return bmd.scriptapp("Resolve")  # noqa: F821
    except NameError:
        return None


def _load_bridge():
    spec = importlib.util.spec_from_file_location(
        "promptreel_bridge", os.path.join(BRIDGE, "__init__.py"), submodule_search_locations=[BRIDGE])
    module = importlib.util.module_from_spec(spec)
    sys.modules["promptreel_bridge"] = module
    spec.loader.exec_module(module)
    import promptreel_bridge.server
    return promptreel_bridge.server


def main():
    app = _get_resolve()
    if app is None:
        print("promptreel: this script must be run from Resolve's Workspace > Scripts menu.")
        return 1
    if not os.path.isfile(PYTHON) or not os.path.isdir(BRIDGE):
        print("promptreel: the environment it was installed from is gone (" + PYTHON + ").")
        print("Run `promptreel resolve install` again from where promptreel is installed.")
        return 1
    if not os.path.isdir(DATA):
        os.makedirs(DATA)
    server = _load_bridge()
    print("promptreel: bridge running; close the promptreel window (or its worker) to stop.")
    server.run(app, worker_command=[PYTHON, "-m", "promptreel.resolve_plugin.worker"],
               session_file=os.path.join(DATA, "bridge.json"))
    return 0


main()
"""


def render(python: str, bridge: str, data: str) -> str:
    return TEMPLATE.format(marker=MARKER, python=python, bridge=bridge, data=data)
