"""Runs first in every Python process of a lesson's build: which files of the package each one executes.

The build (lesson_kernel.py) puts this folder on the kernel's PYTHONPATH and sets two variables, which
every process the kernel starts inherits (multiprocessing workers, torchrun and its workers):
BNREF_BUILD_PACKAGE, the package's folder (<repo>/bnref), and BNREF_BUILD_IMPORTS, a log file.
Each process appends to the log, as it happens (a process that ends with os._exit has written its
lines already):

    start <TAB> pid              when the process starts (the build checks the kernel's is there)
    file  <TAB> pid <TAB> path   a source file of the package, executed (imported or run as a script)
    other <TAB> pid <TAB> path   another copy of the package (a folder of the same name elsewhere)

Python reports every module it executes to audit hooks (PEP 578) as an "exec" event with the
module's code object, whose co_filename is the source file. Without the two variables (a process
outside the build) this file does nothing.
"""

import os
import sys


def _record_imports(log_path, package):
    package = os.path.abspath(package)
    prefix = package + os.sep
    other = os.sep + os.path.basename(package) + os.sep + "__init__.py"
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    seen = set()

    def note(filename):
        if not isinstance(filename, str) or filename in seen:
            return
        seen.add(filename)
        kind = "file" if filename.startswith(prefix) else "other" if filename.endswith(other) else None
        if kind:  # one write per line: with O_APPEND, lines of several processes never interleave
            os.write(log, f"{kind}\t{os.getpid()}\t{filename}\n".encode())

    def hook(event, args):
        if event == "exec":
            note(getattr(args[0], "co_filename", None))
        elif event == "cpython.run_file":
            note(args[0])

    os.write(log, f"start\t{os.getpid()}\n".encode())
    for module in list(sys.modules.values()):  # imported before this file ran (by a .pth file)
        note(getattr(module, "__file__", None))
    sys.addaudithook(hook)


if os.environ.get("BNREF_BUILD_IMPORTS") and os.environ.get("BNREF_BUILD_PACKAGE"):
    _record_imports(os.environ["BNREF_BUILD_IMPORTS"], os.environ["BNREF_BUILD_PACKAGE"])
del _record_imports
