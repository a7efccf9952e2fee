"""Where the system keeps ALSA's configuration and plugins, for capturing sound.

PyAV's wheels bring their own libasound, built to look for its configuration and
plugins under the directory it was built in (`/tmp/vendor/...`), which no machine
has: every device, even "default", fails to open ("Input/output error"), and a
desktop's "default" (PulseAudio or PipeWire, an ALSA plugin) cannot load. libasound
reads `ALSA_CONFIG_DIR` and `ALSA_PLUGIN_DIR` when it first loads its configuration;
pointing them at the system's own, unless the user already did, makes the devices
`arecord -L` lists open here too.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import MutableMapping
from pathlib import Path

SYSTEM_CONFIG_DIRS = ("/usr/share/alsa",)


def system_plugin_dirs() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = [f"/usr/lib/{multiarch}/alsa-lib"] if multiarch else []
    return [*candidates, "/usr/lib64/alsa-lib", "/usr/lib/alsa-lib"]


def use_system_alsa(environ: MutableMapping[str, str] = os.environ) -> None:
    """Sets ALSA_CONFIG_DIR and ALSA_PLUGIN_DIR to the system's directories, each
    unless it is set already or the system has none."""
    for name, candidates in (
        ("ALSA_CONFIG_DIR", SYSTEM_CONFIG_DIRS),
        ("ALSA_PLUGIN_DIR", system_plugin_dirs()),
    ):
        if name in environ:
            continue
        found = next((path for path in candidates if Path(path).is_dir()), None)
        if found is not None:
            environ[name] = found
