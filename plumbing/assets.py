"""Where bundled files are, in a checkout or an installed wheel.

The rrweb version is named here and nowhere else: the file names carry it, so a refresh that forgets
a file fails loudly instead of mixing versions.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

RRWEB_VERSION = "2.2.2"
RRWEB_PLAYER_VERSION = "2.1.7"

VENDOR_FILES: dict[str, str] = {
    "rrweb.js": f"rrweb-{RRWEB_VERSION}.umd.min.js",
    "rrweb.css": f"rrweb-{RRWEB_VERSION}.style.min.css",
    "rrweb-player.js": f"rrweb-player-{RRWEB_PLAYER_VERSION}.umd.min.js",
    "rrweb-player.css": f"rrweb-player-{RRWEB_PLAYER_VERSION}.style.min.css",
}

_HERE = Path(__file__).resolve().parent


def vendor_dir() -> Path:
    """The vendored rrweb folder: `vendor/rrweb` in a checkout, `plumbing/vendor/rrweb` in a wheel."""
    for candidate in (_HERE.parent / "vendor" / "rrweb", _HERE / "vendor" / "rrweb"):
        if (candidate / VENDOR_FILES["rrweb.js"]).is_file():
            return candidate
    raise FileNotFoundError(
        f"vendored rrweb {RRWEB_VERSION} not found next to {_HERE}; see vendor/rrweb/README.md"
    )


def vendor_path(name: str) -> Path:
    """Path of a vendored file by its short name (a key of VENDOR_FILES)."""
    return vendor_dir() / VENDOR_FILES[name]


@cache
def vendor_text(name: str) -> str:
    return vendor_path(name).read_text(encoding="utf-8")


@cache
def package_text(package: str, name: str) -> str:
    """A file shipped beside a package's Python code, e.g. the JS a module injects into pages."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def amd_safe(umd_source: str, holder: str) -> str:
    """Evaluate a UMD bundle so it lands on `holder`, never on the page's globals.

    A page that defines AMD `define` (or CommonJS `module`) would otherwise capture the bundle and
    leave our global undefined; shadowing the three names makes the UMD fall through to `this`.
    """
    return f"(function(define, exports, module){{\n{umd_source}\n}}).call({holder});"
