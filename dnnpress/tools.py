"""Install the external EDA tools the project needs (Icarus Verilog, Yosys) where missing.

Run with the system Python before the virtual environment exists::

    python3 -m dnnpress.tools iverilog yosys

Each tool is looked up on ``PATH``; missing ones are installed with ``apt-get`` (Debian package
names below). Without root or without ``apt-get`` it prints what to install and exits 1.
"""

import os
import shutil
import subprocess
import sys

#: command name -> Debian package that provides it
PACKAGES = {
    "iverilog": "iverilog",
    "vvp": "iverilog",
    "yosys": "yosys",
}


def missing(commands):
    """The Debian packages providing the commands of ``commands`` that are not on ``PATH``."""
    unknown = [c for c in commands if c not in PACKAGES]
    if unknown:
        raise ValueError(f"unknown tool {unknown[0]!r}; known tools: {', '.join(PACKAGES)}")
    return sorted({PACKAGES[c] for c in commands if shutil.which(c) is None})


def install(packages):
    """Install Debian ``packages`` with apt-get; raise ``RuntimeError`` saying why it cannot."""
    if shutil.which("apt-get") is None:
        raise RuntimeError(
            f"apt-get not found: install {' '.join(packages)} with your package manager")
    if os.geteuid() != 0:
        raise RuntimeError(
            f"not root: run `sudo apt-get install -y {' '.join(packages)}` and `make` again")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env)


def main(argv=None):
    commands = sys.argv[1:] if argv is None else argv
    try:
        packages = missing(commands)
        if packages:
            print(f"dnnpress: installing {' '.join(packages)} with apt-get", flush=True)
            install(packages)
        still = missing(commands)
        if still:
            raise RuntimeError(f"{' '.join(still)} still missing after apt-get install")
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"dnnpress: cannot set up tools: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
