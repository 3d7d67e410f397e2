"""Finding the CJK fonts and refusing text they cannot show.

A name the font cannot draw would come out of the PDF as an empty box (tofu)
in a legally binding contract, and nobody would notice until the registry
refuses it. So text is checked against the fonts' character maps before
rendering, and the API refuses such input with a clear error instead.

Fonts are searched in order: the directory the deployment configures, else
the fonts shipped by the ``pylopdf-fonts-zh-cn`` package (so a plain
``pip install`` works), else Debian's ``fonts-noto-cjk``. A configured
directory without a CJK font is an error, not a reason to fall back:
silently using another font would hide a deployment mistake.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass
from functools import cached_property, lru_cache
from pathlib import Path

DEBIAN_NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_SUFFIXES = (".otf", ".ttf", ".ttc", ".otc")

# Characters every contract font must have; used to tell a CJK font from,
# say, a Latin-only font dropped into the configured directory.
_CJK_PROBE = "存量房买卖合同壹贰"

# Layout characters that are never drawn as glyphs.
_LAYOUT_CONTROLS = frozenset("\n\r\t")
# Private use, unassigned, surrogates, controls: no agreed appearance.
_UNDEFINED_LOOK = frozenset({"Co", "Cn", "Cs", "Cc"})


class FontNotFound(Exception):
    """No usable CJK font: rendering cannot start."""

    def __init__(self, searched: Sequence[str | Path]) -> None:
        where = ", ".join(str(p) for p in searched) or "(nowhere)"
        super().__init__(
            f"no CJK font (Noto Serif SC / Noto Serif CJK) found in: {where}; "
            "install pylopdf-fonts-zh-cn or fonts-noto-cjk, or configure the font directory"
        )
        self.searched = tuple(str(p) for p in searched)


class UnrenderableText(ValueError):
    """A text field holds characters that no contract font can draw."""

    def __init__(self, field: str, chars: Sequence[str]) -> None:
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)
        super().__init__(f"{field}: characters not available in the contract font: {shown}")
        self.field = field
        self.chars = tuple(chars)


def _font_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)


@lru_cache(maxsize=64)
def _cmap_of(path: Path) -> frozenset[int]:
    # Imported here: fontTools is only needed on the first check per process.
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=True)
        faces = list(collection.fonts)
    else:
        faces = [TTFont(str(path), lazy=True)]
    codepoints: set[int] = set()
    for face in faces:
        cmap = face["cmap"].getBestCmap() or {}
        codepoints.update(cmap)
    return frozenset(codepoints)


class FontSet:
    """The font files the contract is rendered with, and what they can draw."""

    def __init__(self, paths: Iterable[str | Path]) -> None:
        self.paths: tuple[Path, ...] = tuple(Path(p) for p in paths)
        self._lock = threading.Lock()

    @property
    def dirs(self) -> tuple[str, ...]:
        """Directories to hand to typst (it scans folders, not single files)."""
        seen: dict[str, None] = {}
        for path in self.paths:
            seen.setdefault(str(path.parent), None)
        return tuple(seen)

    @cached_property
    def _codepoints(self) -> frozenset[int]:
        # Parsing a 20 MB CJK font's cmap takes ~0.1 s: once per process.
        with self._lock:
            union: set[int] = set()
            for path in self.paths:
                union |= _cmap_of(path)
            return frozenset(union)

    def covers(self, char: str) -> bool:
        """Whether some font has a glyph for ``char`` (line breaks and tabs count as covered)."""
        return char in _LAYOUT_CONTROLS or ord(char) in self._codepoints

    def missing_glyphs(self, text: str) -> list[str]:
        """Characters of ``text`` no font covers, each once, in order of appearance."""
        missing: dict[str, None] = {}
        for char in text:
            if not self.covers(char):
                missing.setdefault(char, None)
        return list(missing)

    def __repr__(self) -> str:
        return f"FontSet({[str(p) for p in self.paths]!r})"


def _package_font_dir() -> Path | None:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    return Path(pylopdf_fonts_zh_cn.__file__).parent


def _cjk_fonts_in(directory: Path) -> list[Path]:
    files = _font_files(directory)
    probe = {ord(c) for c in _CJK_PROBE}
    usable = []
    for path in files:
        try:
            if probe <= _cmap_of(path):
                usable.append(path)
        except Exception:  # noqa: BLE001 - a broken font file is skipped, not fatal
            continue
    return usable


_cache: dict[tuple[str, ...], FontSet] = {}
_cache_lock = threading.Lock()


def find_fonts(font_dirs: Sequence[str | Path] | None = None) -> FontSet:
    """The CJK fonts to render with, found once per process and argument.

    ``font_dirs`` is the deployment's configured font directory (or several);
    when given, fonts are taken from there only. Raises :class:`FontNotFound`.
    """
    key = tuple(str(d) for d in font_dirs) if font_dirs else ()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    if key:
        candidates = [[Path(d) for d in key]]
    else:
        package_dir = _package_font_dir()
        candidates = [[package_dir]] if package_dir else []
        candidates.append([DEBIAN_NOTO_DIR])
    searched: list[Path] = []
    found: list[Path] = []
    for directories in candidates:
        searched.extend(directories)
        found = [path for d in directories for path in _cjk_fonts_in(d)]
        if found:
            break
    if not found:
        raise FontNotFound(searched)
    font_set = FontSet(found)
    with _cache_lock:
        _cache.setdefault(key, font_set)
        return _cache[key]


def _text_fields(value: object, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _text_fields(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _text_fields(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _text_fields(item, f"{path}[{key!r}]")


def ensure_renderable(text: str, field: str, fonts: FontSet) -> None:
    """Raise :class:`UnrenderableText` if ``text`` has a character the fonts lack.

    Unassigned and private-use code points are refused even if some font maps
    them: their look is not defined, so what the parties saw is not provable.
    """
    bad = fonts.missing_glyphs(text)
    for char in text:
        if char in _LAYOUT_CONTROLS or char in bad:
            continue
        if unicodedata.category(char) in _UNDEFINED_LOOK:
            bad.append(char)
    if bad:
        raise UnrenderableText(field, bad)


def ensure_document_renderable(document: object, fonts: FontSet, prefix: str = "") -> None:
    """Check every text field of a (nested) dataclass; the first bad field raises.

    Field names in the error are paths such as ``parties[0].name``.
    """
    for path, text in _text_fields(document, prefix):
        ensure_renderable(text, path, fonts)
