"""Labels and the label schema (the seed's Suspicious / Non-Suspicious / NA by default)."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinlabel.domain.regions import TOOL_KEYS, RegionClass, parse_region_classes
from clinlabel.errors import ValidationError


@dataclass(frozen=True, slots=True)
class LabelDef:
    """One label a user can give: its name, its key and whether it needs a comment."""

    name: str
    key: str
    requires_comment: bool = False


@dataclass(frozen=True, slots=True)
class LabelSchema:
    """The labels of a project, in the order the buttons show them."""

    labels: tuple[LabelDef, ...]
    regions: tuple[RegionClass, ...] = ()
    """Region classes (`[[regions]]`); none for a project that only labels whole images."""
    case_labels: tuple[LabelDef, ...] = ()
    """The case-level diagnosis (`[[case_labels]]`), asked once every image of a case is
    labelled; none for a project that labels images only."""

    def __post_init__(self) -> None:
        if not self.labels:
            raise ValidationError("A label schema needs at least one label.")
        names = [d.name for d in self.labels]
        keys = [d.key for d in self.labels]
        if len(set(names)) != len(names):
            raise ValidationError("Label names in the schema must be unique.")
        if len(set(keys)) != len(keys):
            raise ValidationError("Label keys in the schema must be unique.")
        for d in self.labels:
            if not d.name.strip():
                raise ValidationError("A label in the schema has an empty name.")
            if len(d.key) != 1:
                raise ValidationError(f"The key of label {d.name!r} must be one character.")
            if self.regions and d.key in TOOL_KEYS:
                raise ValidationError(
                    f"The key {d.key!r} of label {d.name!r} draws regions in this project "
                    "(B, G, D, E, K, A, H, S); give the label another key."
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.labels)

    def get(self, name: str) -> LabelDef:
        for d in self.labels:
            if d.name == name:
                return d
        raise ValidationError(
            f"Unknown label {name!r}.", hint=f"Known labels: {', '.join(self.names)}."
        )

    def validate(self, name: str, comment: str | None) -> tuple[str, str]:
        """Return the label name and the trimmed comment, or raise if a rule is broken."""
        definition = self.get(name)
        text = clean_comment(comment)
        if definition.requires_comment and not text:
            raise ValidationError(
                f"The label {name!r} needs a comment.", hint="Type a short reason and save again."
            )
        return definition.name, text

    def region_class(self, name: str) -> RegionClass:
        for region in self.regions:
            if region.name == name:
                return region
        known = ", ".join(r.name for r in self.regions) or "none (the schema declares no regions)"
        raise ValidationError(f"Unknown region class {name!r}.", hint=f"Known classes: {known}.")

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "labels": [
                {"name": d.name, "key": d.key, "requires_comment": d.requires_comment}
                for d in self.labels
            ]
        }
        # Only when declared, so a project without regions keeps the schema text it had.
        if self.regions:
            data["regions"] = [r.to_json() for r in self.regions]
        if self.case_labels:
            data["case_labels"] = [
                {"name": d.name, "key": d.key, "requires_comment": d.requires_comment}
                for d in self.case_labels
            ]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> LabelSchema:
        """A schema from its parsed file; every mistake found is named, one line each."""
        mistakes: list[str] = []
        raw = data.get("labels")
        defs: list[LabelDef] = []
        if not isinstance(raw, list) or not raw:
            mistakes.append("A label schema file needs a non-empty list called 'labels'.")
            raw = []
        for i, item in enumerate(raw, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                mistakes.append(f"Label {i} in the schema file needs a 'name'.")
                continue
            key = item.get("key", str(i))
            defs.append(
                LabelDef(
                    name=item["name"].strip(),
                    key=str(key),
                    requires_comment=bool(item.get("requires_comment", False)),
                )
            )
        regions = parse_region_classes(data.get("regions"), mistakes)
        case_defs = _case_labels(data.get("case_labels"), mistakes)
        if not mistakes:
            try:
                return cls(tuple(defs), regions, case_defs)
            except ValidationError as exc:
                mistakes.append(exc.message)
        if len(mistakes) == 1:
            raise ValidationError(mistakes[0])
        listed = "\n".join(f"- {m}" for m in mistakes)
        raise ValidationError(f"The label schema has {len(mistakes)} mistakes:\n{listed}")

    def case_label(self, name: str, comment: str | None) -> tuple[str, str]:
        """A case diagnosis's name and trimmed comment, or raise if a rule is broken."""
        for d in self.case_labels:
            if d.name == name:
                text = clean_comment(comment)
                if d.requires_comment and not text:
                    raise ValidationError(f"The case diagnosis {name!r} needs a comment.")
                return d.name, text
        known = ", ".join(d.name for d in self.case_labels) or "none (the schema asks for none)"
        raise ValidationError(f"Unknown case diagnosis {name!r}.", hint=f"Known: {known}.")

    @classmethod
    def from_json(cls, text: str) -> LabelSchema:
        return cls.from_mapping(json.loads(text))

    @classmethod
    def load(cls, path: Path) -> LabelSchema:
        """Read a schema from a `.toml` or `.json` file."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValidationError(f"Cannot read the label schema {path}: {exc.strerror}.") from exc
        try:
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(raw.decode("utf-8"))
            else:
                data = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"The label schema {path} is not valid: {exc}.") from exc
        if not isinstance(data, dict):
            raise ValidationError(f"The label schema {path} must be a table with 'labels'.")
        return cls.from_mapping(data)


def _case_labels(raw: object, mistakes: list[str]) -> tuple[LabelDef, ...]:
    """The schema's `[[case_labels]]` (optional): names unique, keys one character."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        mistakes.append("'case_labels' in the schema file must be a list of labels.")
        return ()
    out: list[LabelDef] = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            mistakes.append(f"Case label {i} in the schema file needs a 'name'.")
            continue
        name = item["name"].strip()
        key = str(item.get("key", str(i)))
        if not name or len(key) != 1:
            mistakes.append(f"Case label {i} needs a name and a one-character key.")
            continue
        out.append(LabelDef(name, key, bool(item.get("requires_comment", False))))
    if len({d.name for d in out}) != len(out):
        mistakes.append("Case label names in the schema must be unique.")
    return tuple(out)


_ALLOWED_CONTROLS = frozenset("\t\n")


def clean_comment(comment: str | None) -> str:
    """A comment as it is stored and hashed, or a `ValidationError` saying what is wrong.

    One rule for every way in (the page, the API, a CSV import): line breaks become `\n`;
    control characters other than tab and line feed (NUL, escape, DEL, the C1 range; Unicode
    category Cc) are refused, because a terminal, a spreadsheet or a database would each read
    them differently from the audit trail; surrounding whitespace is trimmed; and a comment made
    only of whitespace and characters that show as nothing (format characters, category Cf,
    and every Unicode Default_Ignorable_Code_Point: zero-width space and joiners, the byte-order
    mark, the combining grapheme joiner, variation selectors, the Hangul fillers; ranges below)
    counts as no comment at all.
    """
    text = (comment or "").replace("\r\n", "\n").replace("\r", "\n")
    if not _is_text(text):
        raise ValidationError("The comment holds characters that are not text.")
    for char in text:
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            raise ValidationError(
                f"The comment holds a control character (U+{ord(char):04X}).",
                hint="Only letters, digits, punctuation, tabs and line breaks are kept; "
                "retype the comment without it.",
            )
    text = text.strip()
    if all(char.isspace() or _is_invisible(char) for char in text):
        return ""
    return text


# Unicode Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 16.0): characters a
# renderer shows as nothing. Listed as inclusive ranges so a reviewer can hold them against the
# file; it includes the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), which are letters
# (category Lo) that draw blank, and the reserved code points the standard already marks as
# ignorable, so a future character there is invisible too.
_DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x206F),  # WORD JOINER..NOMINAL DIGIT SHAPES (2065 reserved)
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE (byte-order mark)
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF),  # LANGUAGE TAG, TAG characters, VARIATION SELECTOR-17..256, reserved
)


def _is_invisible(char: str) -> bool:
    """A format character (category Cf) or a Unicode Default_Ignorable_Code_Point."""
    if unicodedata.category(char) == "Cf":
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _DEFAULT_IGNORABLE)


def _is_text(text: str) -> bool:
    """No lone surrogates (a broken clipboard or file name leaves them): UTF-8 can't hold them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


DEFAULT_SCHEMA = LabelSchema(
    (
        LabelDef("Suspicious", "1"),
        LabelDef("Non-Suspicious", "2"),
        LabelDef("NA", "3", requires_comment=True),
    )
)


#: The highest frame number there can be: DICOM's Number of Frames is an IS (at most 2**31 - 1).
#: A larger number from a request or a CSV is refused before it reaches the database.
MAX_FRAME = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Label:
    """The label an annotator gave an image (frame 0 = the whole file; frames count from 1)."""

    relpath: str
    annotator: str
    label: str
    comment: str
    labelled_at: str
    """UTC, ISO 8601."""
    frame: int = 0
