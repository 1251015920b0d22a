"""Where bundled files are, in a checkout or an installed wheel.

The rrweb version is named here and nowhere else: the file names carry it, so a refresh that forgets
a file fails loudly instead of mixing versions.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path

from plumbing.vocabulary import page_tags

RRWEB_VERSION = "2.2.2"
RRWEB_PLAYER_VERSION = "2.1.7"

VENDOR_FILES: dict[str, str] = {
    "rrweb.js": f"rrweb-{RRWEB_VERSION}.umd.min.js",
    "rrweb-record.js": f"rrweb-{RRWEB_VERSION}.record.min.js",  # rrweb's `record` alone (recorders)
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


# Page scripts: how a .js file names another file of its package whose statements it takes in
# (a function body split by concern), and the custom-event tags it takes from plumbing.vocabulary.
_INCLUDE = re.compile(r"/\*@INCLUDE ([\w.-]+\.js)@\*/")
_TAG_USE = re.compile(r"\bTAGS\.([A-Za-z_]\w*)")


def _with_includes(package: str, name: str, within: tuple[str, ...] = ()) -> str:
    if name in within:
        raise ValueError(f"{package}/{name} includes itself: {' -> '.join(within + (name,))}")
    text = package_text(package, name)
    return _INCLUDE.sub(lambda m: _with_includes(package, m.group(1), within + (name,)).strip(), text)


@cache
def page_script(package: str, name: str) -> str:
    """The JavaScript expression in `package`'s file `name`, ready to put inside other JavaScript:
    the one loader of page scripts, so that every script gets the same two things.

    - Each `/*@INCLUDE other.js@*/` comment is replaced by that file's text (same package, nested
      includes too): a long function body kept in files by concern, joined as one scope.
    - A script that uses `TAGS.<NAME>` gets the tags of plumbing.vocabulary (`TAGS.CANVAS` is
      `TAG_CANVAS`): it is wrapped as `(function (TAGS) { return (<script>); })({...})`, which
      is still an expression of the same value and puts nothing on the page's globals (record.js
      runs in pages before their own scripts). A name the vocabulary lacks fails here, not in a page.

    Trailing semicolons go, so the text can be called or assigned where it is put.
    """
    text = _with_includes(package, name).strip().rstrip(";").rstrip()
    used = set(_TAG_USE.findall(text))
    if used:
        tags = page_tags()
        unknown = sorted(used - tags.keys())
        if unknown:
            raise ValueError(f"{package}/{name} uses TAGS.{', TAGS.'.join(unknown)}: not in plumbing.vocabulary")
        words = json.dumps({key: tags[key] for key in sorted(used)}, separators=(",", ":"))
        text = f"(function (TAGS) {{\nreturn (\n{text}\n);\n}})({words})"
    return text


def amd_safe(umd_source: str, holder: str) -> str:
    """Evaluate a UMD bundle so it lands on `holder`, never on the page's globals.

    A page that defines AMD `define` (or CommonJS `module`) would otherwise capture the bundle and
    leave our global undefined; shadowing the three names makes the UMD fall through to `this`.
    """
    return f"(function(define, exports, module){{\n{umd_source}\n}}).call({holder});"


# rrweb's "taint check" (rrweb-utils' getUntaintedPrototype, one copy per bundled package) asks
# whether the page has patched the DOM getters and methods rrweb relies on; only a patched
# prototype needs a pristine one from a new, hidden iframe. Its table lists Element's
# `querySelector` and `querySelectorAll` among the getters, though they are methods: the
# getter test then always fails, and every page load built an iframe per bundled copy (about 20 ms
# of the demo page's renderer time). Listed as methods, they are checked as methods: a page that
# did patch them still gets its iframe.
_TAINT_TABLES = (
    ('ShadowRoot:["host","styleSheets"],Element:["shadowRoot","querySelector","querySelectorAll"],'
     'MutationObserver:[]',
     'ShadowRoot:["host","styleSheets"],Element:["shadowRoot"],MutationObserver:[]'),
    ('ShadowRoot:["getSelection"],Element:[],MutationObserver:["constructor"]',
     'ShadowRoot:["getSelection"],Element:["querySelector","querySelectorAll"],MutationObserver:["constructor"]'),
)
_TAINT_TABLE_COPIES = 2  # the record build bundles rrweb-utils twice (rrweb-snapshot's, rrweb's)


@cache
def rrweb_for_recording() -> str:
    """The rrweb the recorders put in pages: the record-only build (`rrweb-record.js`, made from
    the same rrweb release by scripts/build_rrweb_record.sh: the full bundle's Replayer cost each
    recorded page load ~90 ms of renderer time for nothing), its taint-check table corrected (see
    above). A refreshed bundle whose table differs fails here, loudly."""
    source = vendor_text("rrweb-record.js")
    for wrong, right in _TAINT_TABLES:
        found = source.count(wrong)
        if found != _TAINT_TABLE_COPIES:
            raise RuntimeError(f"rrweb {RRWEB_VERSION}: expected its taint-check table {wrong!r} "
                               f"{_TAINT_TABLE_COPIES} times, found it {found} times; see plumbing/assets.py")
        source = source.replace(wrong, right)
    return source
