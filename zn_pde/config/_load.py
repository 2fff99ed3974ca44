"""TOML config -> validated, fully resolved config (a plain nested dict).

Everything that can be known before running is checked here and raised as `InputError`
naming the file, the key, the value and what is allowed (exit status 2 in the CLI).
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import InputError
from .._kinetics import dissolution_law_per_s
from .._protocol import _merge_tolerance_s
from ..materials import ENVIRONMENT, RENAMED, get_material
from ..materials._parameter import Parameter
from ..materials.media import medium_constants
from ._schema import ARRAY_SECTIONS, REQUIRED, RESERVED_NAMES, SECTIONS, Key, parameter_key
from ._toml import _value as _toml_value

DEFAULT_CONFIG_NAME = "zno_spheroid_ultrasound"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Lie splitting of the reaction sub-processes is accurate while every coupling rate times the
# sub-step stays below this (the splitting error is O((rate dt)^2)).
MAX_COUPLING_RATE_TIMES_DT = 0.5
#: The largest pulse-averaged light irradiance accepted (mW/cm^2; 100 W/cm^2, ~1000x the
#: photodynamic fluence rates in use): the in-pulse value may be far higher (1e12, a
#: femtosecond source's peak, for second-harmonic generation), its average may not.
MAX_MEAN_IRRADIANCE_MW_PER_CM2 = 1e5

#: κ·Δt above which a note says the implicit step does not follow a passive species' decay
#: closely: backward Euler decays by ln(1 + κΔt) against κΔt per step, ~κΔt/2 short per e-fold.
FAST_DECAY_RATE_TIMES_DT = 0.1


def default_config_text() -> str:
    return resources.files("zn_pde.data").joinpath(f"{DEFAULT_CONFIG_NAME}.toml").read_text()


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (),
                refill: bool = False) -> dict[str, Any]:
    """Read, override and validate a config; `None` means the built-in default scenario.
    `refill` (simulate's overrides): values that only repeat what resolution fills in follow
    the overrides (`without_filled_values`); `--set` keeps them as given, and validate notes
    another material's constants (`other_material_notes`)."""
    if path is None:
        name, text, file = DEFAULT_CONFIG_NAME, default_config_text(), "<built-in default>"
        raw = parse_toml(text, file)
    else:
        file, name = str(path), Path(path).stem
        raw = read_toml_file(path, "config")
    check_overrides(overrides, file)
    if overrides and refill:
        raw = without_filled_values(raw, file)
    raw = apply_overrides(raw, overrides, file)
    _check_swept_overrides(raw, overrides, file)
    resolved = resolve_noted(raw, file)
    resolved["_name"] = name
    resolved["_file"] = file  # errors of derived configs (sweep points) name it
    return resolved


def resolve_noted(raw: dict[str, Any], file: str) -> dict[str, Any]:
    """`resolve` for a user's config (a file, `simulate`'s dict): the protocol after
    `time.end_h` left out (`drop_beyond_end`), and the notes on it in `_notes`."""
    raw, beyond, left_out = drop_beyond_end(raw)
    try:
        resolved = resolve(raw, file)
    except InputError as e:  # a key into what was left out (a sweep's) reads as missing
        m = re.match(r"(?:sweep\.)?(\w+)\[(\d+)\]", e.key or "")
        if not m or m[1] not in left_out or int(m[2]) < len(raw.get(m[1], [])):
            raise
        left = [n.removeprefix("note: ") for n in beyond
                if n.startswith(f"note: {m[1]}[") and LEFT_OUT in n]
        raise InputError(f"{e.message} ({'; '.join(left)})", file=e.file, key=e.key,
                         missing=e.missing) from None
    if left_out:
        # the indices, as written, of the entries the run leaves out: a plan's control
        # addresses the scenario's entries as written, which the run renumbers
        resolved["_left_out"] = left_out
    resolved["_notes"] = (beyond + other_material_notes(raw, resolved)
                          + inert_coproduct_notes(raw, resolved)
                          + lone_repeat_notes(resolved) + frame_notes(resolved)
                          + step_notes(resolved))
    return resolved


#: what the note of a protocol entry at or after time.end_h says of it (`drop_beyond_end`)
LEFT_OUT = "left out of this run"


def drop_beyond_end(raw: dict[str, Any]
                    ) -> tuple[dict[str, Any], list[str], dict[str, dict[str, str]]]:
    """The config without the protocol that lies at or after `time.end_h`, a note for each
    part left out, and per section the entries left out ({"0": 'ultrasound[0] (start_h =
    4)'}, the index as written). The state over [0, end_h] does not depend on what a
    protocol does later, so a run shortened with `--set time.end_h=2` simulates the first 2 h
    of the experiment instead of refusing it: a dose or medium exchange at or after the end
    (an event at the end acts after the last frame), an exposure that starts there, and the
    repeats of an exposure that start there. An exposure still on at the end stays an error
    (its duration is the user's to shorten). Values that are not numbers are left for
    `resolve` to name."""
    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    time = raw.get("time", {})
    end_h = time.get("end_h", SECTIONS["time"]["end_h"].default) if isinstance(
        time, dict) else None
    if not number(end_h) or end_h <= 0:
        return raw, [], {}
    out, notes, left_out = dict(raw), [], {}
    at_end = f"at or after the run's end (time.end_h = {end_h:g} h)"
    tol_h = _merge_tolerance_s(end_h * 3600.0) / 3600.0  # the step plan merges it into the end
    eps = 1e-9 * max(1.0, end_h)  # as `_check_exposure_in_run`
    for sec, key, margin in (("dose", "time_h", tol_h), ("medium_exchange", "time_h", tol_h),
                             ("ultrasound", "start_h", eps), ("light", "start_h", eps)):
        items = raw.get(sec)
        if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
            continue
        kept, gone = [], []
        for i, e in enumerate(items):
            t = e.get(key)
            if number(t) and t >= end_h - margin:
                gone.append((i, f"{sec}[{i}] ({key} = {t:.10g})"))
                continue
            n, every = e.get("repeats", 1), e.get("repeat_every_h")
            if key == "start_h" and number(t) and isinstance(n, int) and n > 1 and number(
                    every) and every > 0:
                inside = min(n, math.floor((end_h - eps - t) / every) + 1)
                dur = e.get("duration_min")
                # one still on at the end: refused by `resolve`, quoting the repeats as written
                if inside < n and number(dur) and (
                        t + (inside - 1) * every + dur / 60.0 <= end_h + eps):
                    e = dict(e, repeats=inside)
                    late = n - inside
                    notes.append(f"note: {sec}[{i}].repeats = {n} every {every:g} h from {t:g} "
                                 f"h: the last {late} start{'s' if late == 1 else ''} "
                                 f"{at_end}; this run has the first {inside}")
            kept.append(e)
        if kept != items:
            out[sec] = kept
        if gone:
            left_out[sec] = {str(i): g for i, g in gone}  # TOML's keys: a dict config's too
            # an entry kept after the first one left out moves up
            moved = len(items) - gone[0][0] > len(gone)
            notes.append(f"note: {', '.join(g for _, g in gone)} "
                         f"{'is' if len(gone) == 1 else 'are'} {at_end}: {LEFT_OUT}"
                         + (f" (the [[{sec}]] entries after it are renumbered)" if moved
                            else ""))
    return out, notes, left_out


def _check_swept_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...],
                           file: str) -> None:
    """A `--set` of a key the `[sweep]` varies would change nothing (every point sets its
    own value): refused by name rather than ignored."""
    sweep = raw.get("sweep")
    if not isinstance(sweep, dict):
        return
    swept = {key_parts(k): k for k in sweep}
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key_parts(key) in swept:
            k = swept[key_parts(key)]
            raise InputError(f"--set {item}: the [sweep] varies this key, so each point would "
                             "replace the value set here with its own; allowed: set the swept "
                             f"values instead (--set 'sweep.\"{k}\"=[...]'), or leave it "
                             "out", file=file, key=key)


STEP_NOTE_STEPS = 1e7  # a note above this many time steps (hours of stepping even on a
#                        small grid; the default scenario takes 1,440)


def step_notes(resolved: dict[str, Any]) -> list[str]:
    """A note when `time.end_h / time.dt_s` asks for more than `STEP_NOTE_STEPS` steps,
    typically a step in seconds written where minutes or hours were meant."""
    t = resolved.get("time")
    if not isinstance(t, dict) or "dt_s" not in t or "end_h" not in t:
        return []
    steps = t["end_h"] * 3600.0 / t["dt_s"]
    if steps <= STEP_NOTE_STEPS:
        return []
    return [f"note: time.dt_s = {t['dt_s']:g} s over time.end_h = {t['end_h']:g} h takes "
            f"{steps:.3g} steps (the built-in scenario takes 1,440, 60 s over 24 h); steps "
            "of 10-300 s are usual, and time.dt_s larger than a stiff rate allows is refused "
            "with the largest that passes"]


FRAME_NOTE_BYTES = 10e9  # a note above this estimated output size (a run's frames)
FIELDS_PER_FRAME = 10  # the model's state at each frame, at least (more with co-products)


def frame_notes(resolved: dict[str, Any]) -> list[str]:
    """A note when `time.save_every_min` asks for more frames than is likely meant: finer
    than the step (the step then shrinks to land on every frame) or an output estimated above
    `FRAME_NOTE_BYTES` (frames x voxels x `FIELDS_PER_FRAME` fields). `zn-pde run` prints it
    before it starts, too."""
    t, grid = resolved.get("time"), resolved.get("grid")
    if not isinstance(t, dict) or not isinstance(grid, dict) or "save_every_min" not in t:
        return []
    save_min = t["save_every_min"]
    # a float past 1e15 frames: save_every_min = 1e-300 is allowed (> 0), and its count, an
    # int, overflowed the float size (a traceback), or was infinite (5e-324)
    ratio = t["end_h"] * 60.0 / save_min
    frames: int | float = math.ceil(ratio - 1e-9) + 1 if ratio < 1e15 else ratio + 1.0
    voxels = {"well_mixed": 1, "radial": grid["shape"][0]}.get(grid["kind"],
                                                                math.prod(grid["shape"]))
    size = 8 if resolved.get("numerics", {}).get("precision") == "float64" else 4
    gb = frames * voxels * FIELDS_PER_FRAME * size / 1e9
    finer, big = save_min * 60.0 < t["dt_s"], gb * 1e9 > FRAME_NOTE_BYTES
    if not (finer or big):
        return []
    what = [f"~{gb:.3g} GB of output ({voxels} voxels, at least {FIELDS_PER_FRAME} fields "
            "each)"] if big else []
    if finer:
        what.append(f"the step shrinks from dt_s = {t['dt_s']:g} s to {save_min * 60:g} s to "
                    "land on every frame")
    count = f"{frames:,}" if isinstance(frames, int) else f"{frames:.3g}"
    return [f"note: time.save_every_min = {save_min:g} min saves {count} frames over "
            f"{t['end_h']:g} h: {' and '.join(what)}; frames every 10-60 min are usual"]


def lone_repeat_notes(resolved: dict[str, Any]) -> list[str]:
    """A note for each exposure that sets `repeat_every_h` but keeps `repeats = 1`: the
    interval has nothing to space, typically a forgotten `repeats`."""
    return [f"note: {sec}[{i}].repeat_every_h = {ex['repeat_every_h']:g} h has no effect with "
            f"repeats = 1 (a single exposure); set {sec}[{i}].repeats to the number of "
            "exposures"
            for sec in ("ultrasound", "light") for i, ex in enumerate(resolved.get(sec, []))
            if ex.get("repeat_every_h") is not None and ex["repeats"] == 1]


def _coproduct_keys(key: str, coproduct: str | None) -> bool:
    """Whether [kinetics] `key` belongs to a co-product this material does not release
    (H2S keys on all but ZnS; the co-product's yield and pKa where it has none)."""
    if key.startswith("h2s_"):
        return coproduct != "h2s"
    return key in ("coproduct_per_zn", "coproduct_pKa") and coproduct is None


def inert_coproduct_notes(raw: dict[str, Any], resolved: dict[str, Any]) -> list[str]:
    """A note where [kinetics] sets, away from the material's own value, a constant of a
    co-product the material does not release (e.g. coproduct_per_zn = 1 on ZnO): the model
    has no such species for it, so the key does not act (a resolved config lists them at
    the material's values, which need no note)."""
    from ..materials import MATERIALS

    given = raw.get("kinetics")
    if "material" not in resolved or not isinstance(given, dict):
        return []
    kind = resolved["material"]["kind"]
    material = MATERIALS[kind]
    own = material.defaults()
    keys = [k for k, v in given.items() if _coproduct_keys(k, material.coproduct)
            and k in own and _is_number(v) and not math.isclose(v, own[k])]
    if not keys:
        return []
    made = (f"releases {material.coproduct.upper()}, not H2S" if material.coproduct else
            "releases no co-product (ZnO2 releases H2O2 and ZnS H2S with each Zn2+)")
    return [f"note: [kinetics] {', '.join(keys)} do{'es' if len(keys) == 1 else ''} not act: "
            f"{kind} {made}, so the model has no such species here"]


def other_material_notes(raw: dict[str, Any], resolved: dict[str, Any]) -> list[str]:
    """A note where [kinetics] sets keys to another material's default and not to this one's
    (so only keys whose defaults differ between materials, their chemistry):
    typically a config resolved for one material (`zn-pde validate`'s output, a run's stored
    config, a plan's written config), which lists every constant as given, with
    `material.kind` changed afterwards; its chemistry stays the first one's."""
    from ..materials import MATERIALS

    given = raw.get("kinetics")
    if "material" not in resolved or not isinstance(given, dict):
        return []
    kind = resolved["material"]["kind"]
    defaults = {k: m.defaults() for k, m in MATERIALS.items()}
    own = defaults[kind]
    hits = []
    for key, value in given.items():
        if (not _is_number(value) or key not in own or math.isclose(value, own[key])
                or _coproduct_keys(key, MATERIALS[kind].coproduct)):  # inert: noted apart
            continue
        like = [k for k, d in defaults.items() if k != kind and key in d
                and math.isclose(value, d[key])]
        if like:
            hits.append(f"{key} = {value:g} ({' and '.join(like)}'s default; {kind}'s "
                        f"{own[key]:g})")
    if not hits:
        return []
    return [f"note: [kinetics] sets {'; '.join(hits)}: kept as given, so this {kind} has "
            "another material's chemistry there. A resolved config (zn-pde validate's "
            "output, a run's stored config) lists every constant of the material it was "
            "resolved for: to change the material, change material.kind in the original "
            "config, or delete these keys"]


def read_toml_file(path: str | Path, what: str) -> dict[str, Any]:
    """Read and parse a TOML file, or raise InputError (missing, unreadable, not TOML)."""
    if not str(path):  # Path("") is ".", which a message would name as the file
        raise InputError(f"the {what} file's path is empty; expected the path of a TOML file",
                         file="''")
    p = Path(path)
    file = str(p)
    if not p.is_file():
        raise InputError(f"{what} file not found (or not a file)", file=file)
    try:
        # "utf-8-sig": a byte-order mark, which Windows editors write, is read as none
        # (tomllib refuses U+FEFF before the first key)
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"cannot read {what}: byte {e.start} is not UTF-8 ({e.reason}); "
                         "allowed: a TOML file encoded in UTF-8 (as TOML requires)",
                         file=file) from None
    except OSError as e:
        raise InputError(f"cannot read {what}: {e}", file=file) from None
    return parse_toml(text, file)


def parse_toml(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib gives the position only ("Cannot overwrite a value (at line 9, column 12)"
        # for a key set twice): quote that line, which names the key and the value
        at = re.search(r"at line (\d+), column \d+", str(e))
        lines = text.split("\n")
        line = (f"; line {at[1]} reads {lines[int(at[1]) - 1].strip()!r}"
                if at and 0 < int(at[1]) <= len(lines) else "")
        raise InputError(f"not valid TOML: {e}{line}; allowed: TOML 1.0 (https://toml.io), "
                         "each key once per table", file=file) from None


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is taken as a string: --set material.kind=ZnO


def check_overrides(items: Any, file: str) -> None:
    """`items`, the `--set` overrides a Python caller passed, must be a list or tuple of
    'KEY=VALUE' texts: a lone text would be applied a character at a time (and a dict by
    its keys), each refused as 'expects KEY=VALUE, got 't''."""
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise InputError(f"overrides = {items!r} ({type(items).__name__}): expected a list of "
                         "'KEY=VALUE' texts as for --set, e.g. ['time.end_h=2']",
                         file=file, key="overrides")


def apply_overrides(raw: dict[str, Any], items: list[str] | tuple[str, ...], file: str
                    ) -> dict[str, Any]:
    """`raw` with every `--set` item applied in order (`apply_override`); an item inside a
    list or table the config leaves to its default (`geometry.center_um[0]`,
    `species[0].decay_per_s.medium`) takes the rest of it from the config resolved as
    overridden so far (none while that config does not resolve: the item then has to stand
    alone)."""
    for item in items:
        try:
            filled = resolve(copy.deepcopy(raw), file)
        except InputError:
            filled = None
        trial = copy.deepcopy(raw)
        apply_override(trial, item, file, filled=filled)
        raw = trial
    return raw


def _list_index(node: list, parts: list[str], j: int, file: str, key: str,
                resolved: bool = False) -> int:
    """`parts[j]` of a `--set` key as an index into the list `node` (named `parts[j - 1]`);
    InputError when it is not an index (an array of tables addressed without one) or lies
    past the end (an empty list: one the config has no entries in, `resolved`, or leaves to
    a default it cannot resolve yet)."""
    array, part, n = parts[j - 1] if j else parts[j], parts[j], len(node)
    entries = f"{n} entr{'y' if n == 1 else 'ies'}"
    if re.fullmatch(r"-\d+", part):
        raise InputError(f"index {part}: indices count from 0 ({array} has {entries}"
                         f"{f', the last is {array}[{n - 1}]' if n else ''})",
                         file=file, key=key)
    if not part.isdigit():
        raise InputError(f"{array} is an array of {entries}: address one by its index, "
                         f"e.g. {array}[0].{part}=VALUE", file=file, key=key)
    if n == 0 and resolved:
        raise InputError(f"index {part}: the config has no {array} entries, so there is no "
                         f"{array}[{part}] to set; add it to the config, or set the whole "
                         f"list, e.g. {array}=[...]", file=file, key=key)
    if int(part) >= n:
        # unset, with a default not known here (a fit or plan file's, or a simulation
        # config that does not resolve yet): it may be no list at all
        raise InputError(f"index {part}: the config does not set {array} (or sets it "
                         f"empty), so it has no entry {part} to set; set the whole key, e.g. "
                         f"{array}=VALUE (a list where the key takes one)" if n == 0 else
                         f"index {part} out of range ({array} has {entries}; allowed: "
                         f"0 to {n - 1})",
                         file=file, key=key)
    return int(part)


# a part: bare, or quoted as TOML quotes a key ("basic" or 'literal'), dots and all
_PART = r"""(?:[^.\[\]"']+|"[^"]+"|'[^']+')"""
_KEY = re.compile(rf"""{_PART}(?:\.{_PART}|\[[^.\[\]"']+\])*""")  # a.b, a[0].b, a.0.b, a."b.c"


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of a dotted key as `--set` reads it: `ultrasound[0].start_h` and
    `ultrasound.0.start_h` are ('ultrasound', '0', 'start_h'); a quoted part is one part."""
    return tuple(basic or literal or bare for basic, literal, bare
                 in re.findall(r""""([^"]+)"|'([^']+)'|([^.\[\]"']+)""", key.strip()))


def apply_override(raw: dict[str, Any], item: str, file: str,
                   filled: dict[str, Any] | None = None) -> None:
    """Apply one `--set a.b.c=VALUE` (TOML value); `ultrasound[0].x` or `ultrasound.0.x`
    address an entry of an array of tables; a quoted part ("..." or '...') is one key, dots
    and all, as in TOML (`sweep."material.dose_ug_per_ml"=[5.0, 10.0]`). `filled`, the
    resolved config, supplies a list the raw config leaves to its default
    (`geometry.center_um[0]`)."""
    if "=" not in item:
        raise InputError(f"--set expects KEY=VALUE, got {item!r}", file=file)
    key, value = item.split("=", 1)
    key = key.strip()
    parts = list(key_parts(key))
    if not parts:
        raise InputError(f"--set has an empty key in {item!r}", file=file)
    if not _KEY.fullmatch(key):  # a stray dot or bracket would otherwise be skipped
        raise InputError("not a key path: parts joined by single dots, an index in brackets "
                         "or as a part (ultrasound[0].duty_cycle, ultrasound.0.duty_cycle), a "
                         'part with dots in quotes (sweep."material.dose_ug_per_ml")',
                         file=file, key=key)
    def not_a_table(n: int) -> InputError:
        # the value at the first n parts is neither a table nor a list
        parent = ""
        for p in parts[:n]:
            parent += (f"[{p}]" if p.isdigit() and parent else
                       ("." if parent else "") + (f'"{p}"' if "." in p else p))
        return InputError(f"the key goes inside a value that is not a table: {parent} is "
                          f"{as_toml(node)}; allowed: {parent}=VALUE to replace it, or a key "
                          "inside a table", file=file, key=key)

    def not_a_list(n: int, parent: dict[str, Any]) -> InputError:
        # parts[n], absent from the raw config, is no list in the resolved one (`known`)
        path = ".".join(f'"{p}"' if "." in p else p for p in parts[:n + 1])
        if known is not None:
            return InputError(f"{path} is {as_toml(known)}, not a list, so it has no entry "
                              f"{parts[n + 1]}; allowed: {path}=VALUE to replace it",
                              file=file, key=key)
        # no such key: the resolver names it (an unknown section or key, with the allowed
        # ones), as it would for the key set whole
        trial = copy.deepcopy(raw)
        parent[parts[n]] = _parse_value(value)
        try:
            resolve(raw, file)
        except InputError as e:
            return e
        finally:
            raw.clear()
            raw.update(trial)
        return InputError(f"{path} is not a list (an optional key the config leaves unset), so "
                          f"it has no entry {parts[n + 1]}; allowed: {path}=VALUE to set it",
                          file=file, key=key)

    node: Any = raw
    known: Any = filled  # the same place in the resolved config, while it has it
    for i, part in enumerate(parts[:-1]):
        nxt_is_index = re.fullmatch(r"-?\d+", parts[i + 1]) is not None  # -1: refused below
        if not isinstance(node, dict | list):  # time.end_h.x.y: end_h is a number
            raise not_a_table(i)
        if isinstance(node, list):
            idx = _list_index(node, parts, i, file, key, resolved=isinstance(known, list))
            node = node[idx]
            known = known[idx] if isinstance(known, list) and idx < len(known) else None
            continue
        known = known.get(part) if isinstance(known, dict) else None
        if (i == len(parts) - 2 and parts[-1] in ("tissue", "medium")
                and _is_number(node.get(part)) and _is_pair(parts[:i + 1])):
            # a pair written as one number (the same in tissue and medium): setting one of
            # its entries keeps the other at that number
            node[part] = {"tissue": node[part], "medium": node[part]}
        if part not in node and nxt_is_index and filled is not None and not isinstance(
                known, list):
            # an index into what the resolved config holds as no list: not "a list left to
            # a default that could not be resolved yet", which would say to set it whole
            raise not_a_list(i, node)
        if part not in node:
            # a list, or a table inside a section (not a section itself, whose defaults
            # stay defaults), the config leaves to its default: start from the default
            keep = isinstance(known, list) if nxt_is_index else (i > 0 and isinstance(known, dict))
            node[part] = (copy.deepcopy(known) if keep else [] if nxt_is_index else {})
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, parts, len(parts) - 1, file, key,
                         resolved=isinstance(known, list))] = _parse_value(value)
    elif isinstance(node, dict):
        node[last] = _parse_value(value)
    else:
        raise not_a_table(len(parts) - 1)


def _is_pair(path: list[str]) -> bool:
    """Whether a key path (`species`, `0`, `initial_uM`) names a { tissue, medium } pair."""
    return (len(path) == 3 and path[1].isdigit()
            and getattr(ARRAY_SECTIONS.get(path[0], {}).get(path[2]), "kind", None) == "pair")


def _did_you_mean(word: str, options: list[str]) -> str:
    # compared case-folded: 'zno' or 'zif8' (lower case, the usual slip in a material's
    # name) are too far from 'ZnO' and 'ZIF-8' as typed for difflib's 0.6 ratio
    by_fold = {o.casefold(): o for o in reversed(options)}
    close = difflib.get_close_matches(word.casefold(), list(by_fold), n=1, cutoff=0.6)
    return f" (did you mean '{by_fold[close[0]]}'?)" if close else ""


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def as_toml(v: Any) -> str:
    """A value as the config would spell it (true, not True; { a = 1.0 }, not {'a': 1.0})."""
    try:
        return _toml_value(v)
    except TypeError:
        return repr(v)


def _check_number(v: Any, spec: Key, file: str, key: str, integer: bool = False) -> float:
    if integer:
        ok = isinstance(v, int) and not isinstance(v, bool)
    else:
        ok = _is_number(v) and math.isfinite(v)
    if not ok:
        raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}",
                         file=file, key=key)
    below = spec.lo is not None and (v < spec.lo or (spec.lo_open and v == spec.lo))
    if below or spec.hi is not None and (v > spec.hi or (spec.hi_open and v == spec.hi)):
        raise InputError(f"value {as_toml(v)} is out of range; expected {spec.allowed()}"
                         + (f" ({spec.hint})" if spec.hint else ""), file=file, key=key)
    return v if integer else float(v)


def check_value(v: Any, spec: Key, file: str, key: str) -> Any:
    """Type- and range-check one value against its schema entry; returns the clean value."""
    if spec.kind == "float":
        return _check_number(v, spec, file, key)
    if spec.kind == "int":
        return _check_number(v, spec, file, key, integer=True)
    if spec.kind == "str":
        if not isinstance(v, str):
            raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}",
                             file=file, key=key)
        if spec.choices and v not in spec.choices:
            raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}"
                             + _did_you_mean(v, list(spec.choices)), file=file, key=key)
        return v
    if spec.kind == "bool":
        if not isinstance(v, bool):
            raise InputError(f"value {as_toml(v)} is not allowed; expected true or false",
                             file=file, key=key)
        return v
    if spec.kind == "float_list":
        if not isinstance(v, list) or not v:
            raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}",
                             file=file, key=key)
        return [_check_number(x, spec, file, key) for x in v]
    if spec.kind in ("float3", "int3", "shape"):
        sizes = (1, 3) if spec.kind == "shape" else (3,)
        if not isinstance(v, list) or len(v) not in sizes:
            raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}",
                             file=file, key=key)
        return [_check_number(x, spec, file, key, integer=spec.kind != "float3") for x in v]
    if spec.kind == "pair":
        if _is_number(v):  # one number means the same in tissue and medium
            v = {"tissue": v, "medium": v}
        if not isinstance(v, dict) or set(v) != {"tissue", "medium"}:
            raise InputError(f"value {as_toml(v)} is not allowed; expected {spec.allowed()}",
                             file=file, key=key)
        return {k: _check_number(v[k], spec, file, f"{key}.{k}") for k in ("tissue", "medium")}
    raise AssertionError(spec.kind)


def array_of_tables(section: str, items: Any, file: str) -> list[dict[str, Any]]:
    """An array-of-tables section (`[[section]]`) as its list of tables, one table written
    alone as a list of one; InputError naming the section, or the entry, of another type."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise InputError(f"expected an array of tables [[{section}]], got {as_toml(items)}",
                         file=file, key=section)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"expected a table [{section}[{i}]], got {as_toml(item)}",
                             file=file, key=f"{section}[{i}]")
    return items


def _resolve_table(section: str, raw: Any, schema: dict[str, Key], file: str,
                   defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"expected a table [{section}], got {as_toml(raw)}", file=file,
                         key=section)
    for k in raw:
        if k not in schema:
            raise InputError(f"unknown key{_did_you_mean(k, list(schema))}; allowed keys: "
                             f"{', '.join(schema)}", file=file, key=f"{section}.{k}")
    out: dict[str, Any] = {}
    for k, spec in schema.items():
        default = (defaults or {}).get(k, spec.default)
        if k in raw:
            out[k] = check_value(raw[k], spec, file, f"{section}.{k}")
        elif default is REQUIRED:
            raise InputError(f"missing required key; expected {spec.allowed()}", file=file,
                             key=f"{section}.{k}", missing=True)
        elif default is None:
            if not spec.optional:
                raise AssertionError(k)
        else:
            out[k] = copy.deepcopy(default)
    return out


# Keys a [sweep] may not vary: they change array shapes, the time schedule or the model's
# structure, which one vectorised computation cannot hold.
_UNSWEEPABLE = ("grid.", "time.", "boundary.", "numerics.", "geometry.kind", "material.kind")


def resolve(raw: dict[str, Any], file: str = "<config>") -> dict[str, Any]:
    """Validate a parsed config and fill every default (a `[sweep]` is checked point by point)."""
    if "sweep" in raw:
        raw = dict(raw)
        sweep = raw.pop("sweep")
        out = _resolve_plain(raw, file)
        out["sweep"] = _resolve_sweep(raw, sweep, out, file)
        return out
    return _resolve_plain(raw, file)


def _dotted(table: dict[str, Any], prefix: str) -> list[str]:
    """The dotted keys of a nested table's leaves ({"a": {"b": 1}} under "x": ["x.a.b"])."""
    keys = []
    for k, v in table.items():
        keys += _dotted(v, f"{prefix}.{k}") if isinstance(v, dict) else [f"{prefix}.{k}"]
    return keys


def _resolve_sweep(raw: dict[str, Any], sweep: Any, base: dict[str, Any], file: str
                   ) -> dict[str, list[float]]:
    """`[sweep]` maps dotted config keys to lists of numbers; the run covers their product.
    Every value is validated by resolving the config with it substituted."""
    if not isinstance(sweep, dict) or not sweep:
        raise InputError("expected a table of dotted keys to lists of numbers, e.g. "
                         "\"material.dose_ug_per_ml\" = [5.0, 10.0, 20.0]", file=file,
                         key="sweep")
    if "material" not in base:  # its summaries and figure are the nanoparticle model's
        raise InputError("a [sweep] section needs a [material] section (its summaries are "
                         "tissue means of the nanoparticle model); for passive [[species]] "
                         "alone, run each value as its own config", file=file, key="sweep")
    out: dict[str, list[float]] = {}
    seen: dict[tuple[str, ...], str] = {}  # each key's parts: one key, however spelled
    for key, values in sweep.items():
        where = f"sweep.{key}"
        if isinstance(values, dict):  # TOML reads an unquoted dotted key as a nested table
            inner = next(iter(_dotted(values, key)), key)
            raise InputError(f"expected a list of numbers, got a table: quote the dotted key, "
                             f"\"{inner}\" = [...] (unquoted, TOML reads it as nested "
                             "tables)", file=file, key=where)
        other = seen.setdefault(key_parts(key), key)
        if other != key:  # `ultrasound[0].start_h` and `ultrasound.0.start_h`: one key twice
            raise InputError(f"the same config key as the sweep's {other!r}; allowed: each "
                             "key once (one list of its values)", file=file, key=where)
        if (any(key.startswith(p) or key == p.rstrip(".") for p in _UNSWEEPABLE)
                or key.endswith(".repeats")):  # a whole section ("time") too
            raise InputError("this key changes the grid, schedule or model structure and "
                             "cannot be swept; allowed: numeric keys of [material] (dose), "
                             "[ph], [kinetics], [tissue], [oxygen], [medium], [geometry] "
                             "(radius, centre, cell fraction), [[species]], [[dose]], "
                             "[[medium_exchange]], [[ultrasound]] and [[light]] (not their "
                             "repeats)",
                             file=file, key=where)
        if (not isinstance(values, list) or not values
                or not all(_is_number(v) for v in values)):
            raise InputError(f"expected a non-empty list of numbers, got {as_toml(values)}",
                             file=file, key=where)
        repeated = sorted(v for v, n in Counter(map(float, values)).items() if n > 1)
        if repeated:  # the same points twice, and a value that no longer names one point
            raise InputError(f"value {as_toml(repeated[0])} is listed more than once; allowed: "
                             "each value once (the sweep runs every combination of the "
                             "lists)", file=file, key=where)
        for v in values:
            trial = copy.deepcopy(raw)
            try:
                apply_override(trial, f"{key}={v!r}", file, filled=base)
            except InputError as e:  # a key that leads nowhere: named as the sweep's
                raise InputError(e.message.removeprefix("--set "), file=file,
                                 key=where) from None
            try:
                point = _resolve_plain(trial, file)
            except InputError as e:
                raise InputError(f"value {as_toml(v)} of the sweep is not allowed: {e}", file=file,
                                 key=where) from None
            # an optional key the config leaves unset (e.g. material.hydrodynamic_diameter_nm)
            # is addressed in the point's config, where the sweep sets it
            if not _lookup(point, key, file):
                raise InputError("the key does not address a number of the resolved config",
                                 file=file, key=where)
        out[key] = [v if isinstance(v, int) else float(v) for v in values]
    return out


def lookup(c: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(found, value) at the key path `key` ('time.dt_s', 'dose[0].time_h') of a raw or
    resolved config; (False, None) where it leads nowhere."""
    node: Any = c
    for part in [p for p in re.split(r"\.|\[|\]", key) if p != ""]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def _lookup(c: dict[str, Any], key: str, file: str) -> bool:
    found, node = lookup(c, key)
    return found and _is_number(node)


# the sections of the other commands' configs: a simulation config given one is named for what
# it is, with the command that reads it
OTHER_COMMANDS = {
    "fit": "`zn-pde fit FILE` fits it; a simulation config is one with [grid], [material], ...",
    "design": "`zn-pde design FILE` ranks its measurements; a simulation config is one with "
              "[grid], [material], ...",
    "plan": "`zn-pde plan FILE` optimises it; its `config` key names the simulation config "
            "whose protocol it plans",
}


def config_kind_error(raw: dict[str, Any], expected: str, file: str) -> InputError | None:
    """The error for a file of another kind given where a `expected` one is read ("fit":
    `zn-pde fit` and `design`; "plan"): one without its own section that holds another
    kind's (a plan file, a fit config, a simulation config), named for what it is with the
    command that reads it, as `run` names a fit or plan file; None otherwise."""
    if expected in raw or (expected == "fit" and "design" in raw):
        return None

    def named(sec: str) -> str:  # a plan file; a fit (or design) config
        return f"{sec} {'file' if sec == 'plan' else 'config'}"

    if "plan" in raw or "fit" in raw or "design" in raw:
        sec = "plan" if "plan" in raw else "fit"
        # the command that reads it, as `run` names it (OTHER_COMMANDS' head)
        kind, how = named(sec), OTHER_COMMANDS[sec].split(";")[0]
    elif any(sec in SECTIONS or sec in ARRAY_SECTIONS for sec in raw):
        kind, how = "simulation config", "`zn-pde run FILE` runs it"
    else:
        return None
    noun = named(expected)
    return InputError(f"this is a {kind}, not a {noun}: {how}; a {noun} has a [{expected}] "
                      "table", file=file, key=next(iter(raw)))


def _resolve_plain(raw: dict[str, Any], file: str) -> dict[str, Any]:
    allowed = list(SECTIONS) + list(ARRAY_SECTIONS) + ["kinetics", "sweep"]
    for sec in raw:
        if sec in OTHER_COMMANDS:
            raise InputError(f"this is a {sec} config, not a simulation config: "
                             f"{OTHER_COMMANDS[sec]}", file=file, key=sec)
        if sec not in allowed:
            raise InputError(f"unknown section{_did_you_mean(sec, allowed)}; allowed "
                             f"sections: {', '.join(allowed)}", file=file, key=sec)
    out: dict[str, Any] = {}
    grid_kind = raw.get("grid", {}).get("kind", "cartesian") if isinstance(
        raw.get("grid"), dict) else "cartesian"
    for sec, schema in SECTIONS.items():
        if sec in ("material", "kinetics", "oxygen", "photosensitiser", "medium") and (
                sec not in raw):
            continue
        defaults = None
        if sec == "geometry" and grid_kind == "well_mixed":
            defaults = {"kind": "uniform"}
        if sec == "grid" and grid_kind == "radial":
            # assumed: the sphere inscribed in the default 64^3 x 10 um box, so the default
            # radial and cartesian runs hold the same spheroid the same distance from the wall
            defaults = {"shape": [32]}
        out[sec] = _resolve_table(sec, raw.get(sec, {}), schema, file, defaults)
    for sec, schema in ARRAY_SECTIONS.items():
        out[sec] = [_resolve_table(f"{sec}[{i}]", it, schema, file)
                    for i, it in enumerate(array_of_tables(sec, raw.get(sec, []), file))]
    _resolve_volume_fractions(out, raw, file)
    if "material" in out:
        out["kinetics"] = _resolve_kinetics(out["material"]["kind"], raw.get("kinetics", {}),
                                            file)
        env = {p.name: p.value for p in ENVIRONMENT}
        out["ph"].setdefault("lysosome", env["lysosome_ph"])
        t = out["tissue"]
        t.setdefault("ultrasound_attenuation_dB_per_cm_MHz",
                     env["ultrasound_attenuation_tissue_dB_per_cm_MHz"])
        t.setdefault("medium_ultrasound_attenuation_dB_per_cm_MHz",
                     env["ultrasound_attenuation_medium_dB_per_cm_MHz"])
        t.setdefault("medium_light_attenuation_per_cm", 0.0)
        for key in ("ultrasound_cavitation_threshold_W_per_cm2",
                    "ultrasound_cavitation_saturation_W_per_cm2",
                    "ultrasound_cavitation_frequency_exponent"):
            t.setdefault(key, env[key])
        t.setdefault("tortuosity", env["tortuosity"])
        t.setdefault("extracellular_gap_nm", env["extracellular_gap_nm"])
        t.setdefault("surface_uptake_share", env["surface_uptake_share"])
        _derive_tissue_diffusivities(out, raw.get("kinetics", {}), file)
        m = out.setdefault("medium", _resolve_table("medium", {}, SECTIONS["medium"], file))
        for key, value in medium_constants(m["composition"]).items():
            if m.get(key) is None and value is not None:
                m[key] = value
        for sec in ("oxygen", "photosensitiser"):
            if sec not in out:
                out[sec] = _resolve_table(sec, {}, SECTIONS[sec], file)
    else:
        for sec in ("kinetics", "oxygen", "photosensitiser", "medium"):
            if sec in raw:
                raise InputError(f"a [{sec}] section needs a [material] section", file=file,
                                 key=sec)
        if not out.get("species"):
            raise InputError("nothing to simulate: the config has neither a [material] "
                             "section (nanoparticles, e.g. kind = \"ZnO\") nor a [[species]] "
                             "table (a passive species); add one (zn-pde run without a "
                             "config runs the built-in default scenario)", file=file,
                             key="material")
    _mark_defaults(out, raw)
    _cross_check(out, file)
    return _canonical_order(out)


def _canonical_order(c: dict[str, Any]) -> dict[str, Any]:
    """Sections in the schema's order ([kinetics] after [material], arrays of tables last)
    and each table's keys in its schema's order, whether a value was given or filled in: so a
    resolved config written as TOML and resolved again reads the same, text for text."""
    names = list(SECTIONS)
    names.insert(names.index("material") + 1, "kinetics")
    names += list(ARRAY_SECTIONS)
    out = {s: c[s] for s in names if s in c}
    out.update((s, body) for s, body in c.items() if s not in out)
    for s, schema in SECTIONS.items():
        if isinstance(out.get(s), dict):
            body = out[s]
            out[s] = {k: body[k] for k in schema if k in body}
            out[s].update((k, v) for k, v in body.items() if k not in out[s])
    return out


# Keys a well_mixed run resolves (so its stored config reads like any other) but that do not
# act on it: it has no space, so no grid, boundary, pH profile, tissue transport or depth
# attenuation (tests/test_config.py checks that changing them all leaves a run, with both
# stimuli, bit for bit unchanged; `zn-pde validate` lists them).
WELL_MIXED_INERT_KEYS = (
    "grid.shape", "grid.spacing_um", "geometry.radius_um", "boundary.kind",
    "boundary.bulk_medium", "ph.tissue_rim", "ph.tissue_core", "tissue.light_model",
    "tissue.light_attenuation_per_cm", "tissue.medium_light_attenuation_per_cm",
    "tissue.ultrasound_attenuation_dB_per_cm_MHz",
    "tissue.medium_ultrasound_attenuation_dB_per_cm_MHz", "tissue.tortuosity",
    "tissue.extracellular_gap_nm", "tissue.surface_uptake_share")


def _resolve_volume_fractions(c: dict[str, Any], raw: dict[str, Any], file: str) -> None:
    """Cells (φ) and extracellular fluid (α) share a tissue voxel: either sets the other's
    default (φ = 1 − α, α = 1 − φ); both given must leave α + φ ≤ 1 (the rest is matrix)."""
    geo, t = c["geometry"], c["tissue"]
    raw_geo = raw.get("geometry", {}) if isinstance(raw.get("geometry"), dict) else {}
    alpha = t.get("extracellular_volume_fraction")
    if c["grid"]["kind"] == "well_mixed":
        if alpha is not None:
            raise InputError("a well_mixed compartment's fluid is everything but the cells "
                             "(1 - geometry.cell_volume_fraction); remove "
                             "tissue.extracellular_volume_fraction", file=file,
                             key="tissue.extracellular_volume_fraction")
        return
    if alpha is None:
        # rounded to 15 digits: 1 - 0.8 reads 0.2 in the resolved config, not 0.19999999999999996
        t["extracellular_volume_fraction"] = round(1.0 - geo["cell_volume_fraction"], 15)
        _mark_derived(c, "tissue.extracellular_volume_fraction")
        return  # (a default cell fraction is marked as such by `_mark_defaults`)
    if "cell_volume_fraction" not in raw_geo:
        geo["cell_volume_fraction"] = round(1.0 - alpha, 15)
        _mark_derived(c, "geometry.cell_volume_fraction")
        if geo["cell_volume_fraction"] <= 0.0:
            raise InputError(f"extracellular_volume_fraction = {alpha:g} leaves no room for "
                             "cells; allowed: < 1, or set geometry.cell_volume_fraction",
                             file=file, key="tissue.extracellular_volume_fraction")
    elif alpha + geo["cell_volume_fraction"] > 1.0 + 1e-9:
        shown, most = _distinct_h(alpha, 1.0 - geo["cell_volume_fraction"])
        raise InputError(f"extracellular_volume_fraction = {shown} plus "
                         f"geometry.cell_volume_fraction = {geo['cell_volume_fraction']:g} "
                         f"exceeds 1; allowed: <= {most}",
                         file=file, key="tissue.extracellular_volume_fraction")


def _mark_defaults(c: dict[str, Any], raw: dict[str, Any]) -> None:
    """Record every value of a table that the raw config did not give (a default, or one
    derived from other keys) as filled in by resolution: `unresolved` drops it, so a config
    changed after resolution fills it again from what changed (a material's own constants
    after `material.kind` changed, the cell fraction after the fluid fraction was set)."""
    for section, body in list(c.items()):
        if section.startswith("_") or not isinstance(body, dict):
            continue
        given = raw.get(section) if isinstance(raw.get(section), dict) else {}
        if section == "kinetics" and any(k in given for k in RETIRED_PEROXIDE):
            # today's values of the retired keys (`_convert_retired_peroxide`) stand for what
            # was given: the retired keys themselves are not in the resolved config
            given = {**given, **{k: None for k in RETIRED_CONVERTS_TO}}
        for name in body:
            if name not in given and f"{section}.{name}" not in c.get("_derived", {}):
                _mark_derived(c, f"{section}.{name}")


_ITEM_KEY_RE = re.compile(r"^([A-Za-z_]\w*)\[(\d+)\]\.(\w+)$")


def _derived_slot(c: dict[str, Any], key: str) -> tuple[Any, str]:
    """(table, name) of dotted `key` in `c`: `section.name`, or `section[i].name` in an array
    of tables (a medium exchange's pH); (None, name) where `c` has no such table."""
    item = _ITEM_KEY_RE.match(key)
    if item:
        section, i, name = item.group(1), int(item.group(2)), item.group(3)
        tables = c.get(section)
        ok = isinstance(tables, list) and i < len(tables) and isinstance(tables[i], dict)
        return (tables[i] if ok else None), name
    section, name = key.split(".", 1)
    table = c.get(section)
    return (table if isinstance(table, dict) else None), name


def _mark_derived(c: dict[str, Any], key: str) -> None:
    """Record that the resolved value at dotted `key` (set already; `section.name` or
    `section[i].name`) follows from other keys: `unresolved` drops it while it still holds
    that value, so a config changed after resolution derives it again, and a value the
    caller changed by hand is kept."""
    table, name = _derived_slot(c, key)
    c.setdefault("_derived", {})[key] = table[name]


def unresolved(config: dict[str, Any]) -> dict[str, Any]:
    """A resolved config as raw input for changing and resolving again (a sweep point, a
    plan's controls, Python overrides): a deep copy without the private `_` entries and
    without the values resolution filled in, defaults and values derived from other keys
    (tissue diffusivities from the tortuosity, the particles' from their diameter, one volume
    fraction from the other, a material's constants from its kind), so that those follow the
    changed keys instead of keeping the first resolution's values. A filled-in value that
    was changed by hand in the resolved dict counts as given and is kept."""
    raw = {k: copy.deepcopy(v) for k, v in config.items() if not str(k).startswith("_")}
    _drop_still_derived(raw, config.get("_derived", {}))
    return raw


def _drop_still_derived(raw: dict[str, Any], derived: dict[str, Any]) -> None:
    """Delete from `raw`, in place, each value at a dotted key of `derived` (a resolved
    config's `_derived`) that still equals the value resolution derived there: derive it
    again."""
    for key, value in derived.items():
        table, name = _derived_slot(raw, key)
        if table is not None and name in table and table[name] == value:
            del table[name]


def without_filled_values(raw: dict[str, Any], file: str = "<config>") -> dict[str, Any]:
    """`raw` without the values that only repeat what resolution fills in from the config's
    other keys: a `[kinetics]` constant equal to the material's own (`material.kind`, and
    the tissue diffusivities from `[tissue]` and the particle size), `ph.lysosome` equal to
    the material's, `geometry.center_um` at the domain's centre, a medium exchange's `ph`
    equal to `ph.medium`, `tissue.extracellular_volume_fraction` equal to
    1 - `geometry.cell_volume_fraction` written beside it (and that at its default 0.8 with
    it; a fluid fraction written alone was set by hand and is kept), the `[medium]` limits
    equal to `medium.composition`'s. A resolved config read back as text
    (an output's `config` attribute, `zn-pde validate`'s output, a plan's `.toml`) holds
    every such value written out, where `unresolved` cannot see which were filled in;
    `simulate`'s overrides apply to it after this, so those values follow the keys changed
    (`material.kind` brings its own constants, not the first material's), as the docs
    promise. Unchanged configs resolve the same with or without them. A config that does
    not resolve as it is is returned unchanged (its error comes from the normal path)."""
    probe = copy.deepcopy(raw)
    taken = 0

    def take(table: Any, names: Any) -> None:
        nonlocal taken
        if isinstance(table, dict):
            for name in [n for n in names if n in table]:
                del table[name]
                taken += 1

    kinetics = probe.get("kinetics")
    take(kinetics, list(kinetics) if isinstance(kinetics, dict) else [])
    take(probe.get("ph"), ["lysosome"])
    take(probe.get("geometry"), ["center_um"])
    geometry = probe.get("geometry")
    if isinstance(geometry, dict) and "cell_volume_fraction" in geometry:
        # 1 - cell_volume_fraction where both are written, as a resolved config writes them;
        # a fluid fraction written alone was set by hand (`--set` keeps it too)
        take(probe.get("tissue"), ["extracellular_volume_fraction"])
    take(probe.get("medium"), ["zn_complexation_factor", "zinc_phosphate_limit_uM"])
    exchanges = probe.get("medium_exchange")
    for ex in exchanges if isinstance(exchanges, list) else []:
        take(ex, ["ph"])
    if not taken:
        return raw
    try:  # what resolution fills in for them from the config's other keys
        filled = resolve(probe, file)
    except InputError:
        return raw
    out = copy.deepcopy(raw)
    _drop_still_derived(out, filled.get("_derived", {}))
    tissue, geo = out.get("tissue"), out.get("geometry")
    if (isinstance(tissue, dict) and isinstance(geo, dict)
            and "extracellular_volume_fraction" in (raw.get("tissue") or {})
            and "extracellular_volume_fraction" not in tissue
            and geo.get("cell_volume_fraction") == SECTIONS["geometry"]["cell_volume_fraction"]
            .default):
        # both fractions at their defaults (0.8 and 1 - 0.8): either, set, derives the other
        del geo["cell_volume_fraction"]
    return out


def _derive_tissue_diffusivities(c: dict[str, Any], raw_kinetics: Any, file: str) -> None:
    """Tissue diffusivities the user did not set follow from the [tissue] properties:
    D* = D_medium / λ² for solutes, and for particles also Renkin's pore hindrance at the
    particle's hydrodynamic diameter (given, or Stokes–Einstein inverted from D_medium)."""
    from ..materials.tissue import particle_tissue_fraction
    from ..materials.zno import stokes_einstein_um2_per_s

    given = set(raw_kinetics) if isinstance(raw_kinetics, dict) else set()
    k, t = c["kinetics"], c["tissue"]
    d_nm = c["material"].get("hydrodynamic_diameter_nm")
    if d_nm is not None:  # the particles' diffusivity in medium follows from their size
        derived = stokes_einstein_um2_per_s(d_nm)
        key = "np_diffusivity_medium_um2_per_s"
        if key in given and not math.isclose(k[key], derived, rel_tol=1e-6):
            raise InputError(
                f"kinetics.{key} = {k[key]:g} contradicts material.hydrodynamic_diameter_nm "
                f"= {d_nm:g}, which gives {derived:.6g} um^2/s (Stokes-Einstein at 37 °C); "
                "allowed: set one of them (or both consistently)", file=file,
                key=f"kinetics.{key}")
        k[key] = derived
        _mark_derived(c, f"kinetics.{key}")
    lam2 = t["tortuosity"] ** 2
    for sp in ("zn", "ros", "h2o2", "h2s", "cargo"):
        key = f"{sp}_diffusivity_tissue_um2_per_s"
        if key in k and key not in given:
            k[key] = k[f"{sp}_diffusivity_medium_um2_per_s"] / lam2
            _mark_derived(c, f"kinetics.{key}")
    if "np_tissue_diffusivity_fraction" not in given:
        if d_nm is None:  # D = kT/(3πηd) is inverse in d
            d_medium = k["np_diffusivity_medium_um2_per_s"]
            d_nm = stokes_einstein_um2_per_s(1.0) / d_medium if d_medium > 0 else math.inf
        k["np_tissue_diffusivity_fraction"] = particle_tissue_fraction(
            d_nm, t["tortuosity"], t["extracellular_gap_nm"])
        _mark_derived(c, "kinetics.np_tissue_diffusivity_fraction")


#: The peroxide keys of zn-pde 0.1, retired: there `catalase_rate_per_s` was the cells'
#: whole-cell uptake of H2O2 k_cell (1 /s), `intracellular_h2o2_removal_per_s` the removal
#: inside K (693 /s) and `gpx_fraction` its glutathione peroxidases' share g (0.145), so
#: raising "catalase" raised the peroxide entering cells and the kill. A [kinetics] table
#: with a retired key (a config or fit written then) is read in that model and converted
#: exactly (`_convert_retired_peroxide`).
RETIRED_PEROXIDE = {
    "gpx_fraction": Parameter("gpx_fraction", 0.145, "1", "retired", "retired", upper=1.0),
    "intracellular_h2o2_removal_per_s": Parameter(
        "intracellular_h2o2_removal_per_s", 693.0, "1/s", "retired", "retired",
        lower_open=True),
}


#: today's keys that `_convert_retired_peroxide` sets from the retired ones
RETIRED_CONVERTS_TO = ("catalase_rate_per_s", "peroxidase_rate_per_s",
                       "peroxide_damage_rate_per_s", "h2o2_permeation_per_s")


def _convert_retired_peroxide(raw: dict, out: dict[str, float], file: str) -> None:
    """The zn-pde 0.1 peroxide keys in `raw` as today's in `out`: the same uptake k_cell,
    removal inside K + k_F [Fe] (Fenton was outside K then, ~1e-7 of it) and shares, by
    k_cat = (1 − g) K, k_px = k_dmg = g K (the damage was the share of the peroxidases'
    flux glutathione did not intercept) and the permeation k_p = k_cell k_int / (k_int −
    k_cell) that gives k_cell in series with k_int (`Kinetics.peroxide_fates`)."""
    retired = [k for k in RETIRED_PEROXIDE if k in raw]
    if not retired:
        return
    mixed = [k for k in ("peroxidase_rate_per_s", "peroxide_damage_rate_per_s",
                         "h2o2_permeation_per_s") if k in raw]
    if mixed:
        raise InputError(
            f"the retired peroxide key {retired[0]} (zn-pde 0.1) cannot be mixed with "
            f"{mixed[0]}; allowed: either the retired keys (with catalase_rate_per_s as the "
            "whole-cell uptake) or catalase_rate_per_s, peroxidase_rate_per_s, "
            "peroxide_damage_rate_per_s and h2o2_permeation_per_s", file=file,
            key=f"kinetics.{retired[0]}")
    g, removal = (check_value(raw.get(k, p.value), parameter_key(p), file, f"kinetics.{k}")
                  for k, p in RETIRED_PEROXIDE.items())
    # (checked as today's catalase_rate_per_s, whose range it shares)
    uptake = out["catalase_rate_per_s"] if "catalase_rate_per_s" in raw else 1.0
    k_int = removal + out["fenton_rate_per_uM_per_s"] * out["fenton_catalyst_uM"]
    if uptake >= k_int:
        raise InputError(
            f"value {uptake!r} is not allowed with the retired key {retired[0]}: the "
            f"whole-cell uptake must be below the removal inside ({removal!r} /s), "
            f"allowed: 0 <= catalase_rate_per_s < {removal!r}", file=file,
            key="kinetics.catalase_rate_per_s")
    out["catalase_rate_per_s"] = (1.0 - g) * removal
    out["peroxidase_rate_per_s"] = g * removal
    out["peroxide_damage_rate_per_s"] = g * removal  # then the peroxidases' unintercepted share
    out["h2o2_permeation_per_s"] = uptake * k_int / (k_int - uptake)


def _resolve_kinetics(kind: str, raw: Any, file: str) -> dict[str, float]:
    material = get_material(kind, file=file)
    if not isinstance(raw, dict):
        raise InputError(f"expected a table [kinetics], got {as_toml(raw)}", file=file,
                         key="kinetics")
    names = [p.name for p in material.parameters]
    out = material.defaults()
    retired = any(k in raw for k in RETIRED_PEROXIDE)
    for old, new in RENAMED.items():
        if old in raw and new in raw:
            raise InputError(f"{old} is the old name of {new}; give one of them",
                             file=file, key=f"kinetics.{old}")
    for k, v in raw.items():
        if retired and k in RETIRED_PEROXIDE:
            continue
        k = RENAMED.get(k, k)
        if k not in names:
            hint = (f"{_did_you_mean(k, names)}; allowed: {', '.join(names)} "
                    "(`zn-pde validate` prints each with its default and unit)")
            raise InputError(f"unknown kinetic parameter for {kind}{hint}",
                             file=file, key=f"kinetics.{k}")
        out[k] = check_value(v, parameter_key(material.parameter(k)), file, f"kinetics.{k}")
    _convert_retired_peroxide(raw, out, file)
    return out


def _is_reserved(name: str) -> bool:
    """Whether a passive species may not take `name`: the model's variables (every field
    the nanoparticle model may write), the file's coordinates, the output's summary series
    and event table, a sweep's point axis and swept keys, and `open_run`'s time_h."""
    from .._kinetics import UNITS  # deferred: these modules import this package
    from .._run import SUMMARY_UNITS

    return (name in RESERVED_NAMES or name in UNITS or name in SUMMARY_UNITS
            or name == "time_h" or name.startswith(("event", "sweep_")))


def _check_photochemistry(c: dict[str, Any], file: str) -> None:
    """An absorbed photon makes at most one product; the dye has one absorption coefficient
    per band."""
    k = c.get("kinetics")
    if k is not None:
        total = k["photo_radical_quantum_yield"] + k["photo_ros_quantum_yield"]
        if total > 1.0:
            raise InputError(
                f"kinetics.photo_radical_quantum_yield + kinetics.photo_ros_quantum_yield = "
                f"{total:g}: an absorbed photon makes at most one product; allowed: a sum "
                "<= 1", file=file, key="kinetics.photo_radical_quantum_yield")
    ps = c.get("photosensitiser")
    if ps is not None and len(ps["molar_absorption_per_M_per_cm"]) != len(ps["absorption_nm"]):
        raise InputError(
            f"{len(ps['molar_absorption_per_M_per_cm'])} values for "
            f"{len(ps['absorption_nm'])} bands: photosensitiser.molar_absorption_per_M_per_cm "
            "holds one coefficient per peak of photosensitiser.absorption_nm, in its order",
            file=file, key="photosensitiser.molar_absorption_per_M_per_cm")


def _cross_check(c: dict[str, Any], file: str) -> None:
    grid, time, geo = c["grid"], c["time"], c["geometry"]
    _check_photochemistry(c, file)
    if grid["kind"] == "well_mixed" and geo["kind"] == "spheroid":
        raise InputError("geometry.kind = \"spheroid\": a well_mixed run has one compartment; "
                         "allowed: 'uniform' (cells in medium) or 'medium' (no cells)",
                         file=file, key="geometry.kind")
    _check_shape(c, file)
    if grid["kind"] == "radial":
        _check_radial(c, file)
    if grid["kind"] == "cartesian" and c["numerics"]["devices"] > 1:
        # refused here, where the file is known, so that `validate` refuses what `run` would
        from .._parallel import check_devices

        check_devices(c["numerics"]["devices"], grid["shape"][1], file)
    if grid["kind"] == "cartesian" and geo["kind"] == "spheroid":
        extent = [n * grid["spacing_um"] for n in grid["shape"]]
        center = geo.get("center_um")
        centred = not center
        if centred:  # the grid's centre: follows the grid when it changes
            geo["center_um"] = center = [e / 2 for e in extent]
            _mark_derived(c, "geometry.center_um")
        r = geo["radius_um"]
        if r < grid["spacing_um"]:  # first: the least radius bounds what fits a centre below
            shown, least = _distinct_h(r, grid["spacing_um"])
            raise InputError(f"radius {shown} um is below one voxel ({least} um); "
                             "allowed: radius_um >= grid.spacing_um", file=file,
                             key="geometry.radius_um")
        for axis, (cx, e) in enumerate(zip(center, extent, strict=True)):
            if not 0 <= cx <= e:  # the centre itself is outside: that is the key to fix
                raise InputError(
                    f"the spheroid's centre {center} um lies outside the domain: along "
                    f"{'xyz'[axis]} it must lie within [0, {e:g}] um (grid.shape x "
                    f"grid.spacing_um); allowed: {r:g} <= center_um[{axis}] <= {e - r:g} for "
                    f"radius {r:g} um", file=file, key="geometry.center_um")
            if (cx - r < 0 or cx + r > e) and min(cx, e - cx) < grid["spacing_um"]:
                # no radius fits this centre (the least is one voxel): the centre is the key
                raise InputError(
                    f"the spheroid's centre {center} um lies less than one voxel "
                    f"({grid['spacing_um']:g} um, the smallest radius) from a face of the "
                    f"domain along {'xyz'[axis]}, so no spheroid fits around it; allowed: "
                    f"{r:g} <= center_um[{axis}] <= {e - r:g} for radius {r:g} um",
                    file=file, key="geometry.center_um")
            if cx - r < 0 or cx + r > e:
                shown, most = _distinct_h(r, min(cx, e - cx))
                # a smaller grid.shape at the same spacing shrinks the domain (`--set
                # grid.shape=[32,32,32]` on the default scenario): say the spacing that keeps it
                need = 2 * r / min(grid["shape"])
                unit = 10.0 ** (math.floor(math.log10(need)) - 3)  # 4 digits, rounded up
                keep = (f", or grid.spacing_um >= {math.ceil(need / unit - 1e-9) * unit:.4g} "
                        "to keep "
                        f"this grid.shape (a domain that holds the spheroid at its centre; "
                        "larger leaves medium around it)" if centred else "")
                raise InputError(
                    f"the spheroid (radius {shown} um, centre {center}) does not fit in the "
                    f"domain: along {'xyz'[axis]} it must lie within [0, {e:g}] um "
                    f"(grid.shape x grid.spacing_um); allowed: radius_um <= "
                    f"{most} for this centre{keep}", file=file, key="geometry.radius_um")
    seen = set()
    for i, sp in enumerate(c["species"]):
        name = sp["name"]
        reserved = _is_reserved(name)
        if not _NAME_RE.match(name) or reserved or name in seen:
            why = ("is already used" if name in seen else "is reserved" if reserved
                   else "is not an identifier")
            from .._kinetics import UNITS  # the model's variables, `hazard` among them

            raise InputError(f"species name {name!r} {why}; allowed: a unique identifier "
                             f"other than {', '.join(sorted(RESERVED_NAMES | set(UNITS)))}, "
                             "the output's "
                             "series (those `zn-pde inspect` lists, e.g. tissue_mean_zn, "
                             "bulk_zn, max_ros, time_h) and names starting with event or "
                             "sweep_",
                             file=file, key=f"species[{i}].name")
        seen.add(name)
    for sec in ("ultrasound", "light"):
        for i, ex in enumerate(c[sec]):
            if "material" not in c:  # passive species feel no stimulus
                raise InputError(f"a [[{sec}]] acts on the nanoparticle model (passive "
                                 "species do not respond to it); add a [material] section or "
                                 "remove it", file=file, key=f"{sec}[{i}]")
            if ex["repeats"] > 1:
                every = ex.get("repeat_every_h")
                if every is None or every * 60.0 < ex["duration_min"]:
                    raise InputError(
                        f"{ex['repeats']} repeats need repeat_every_h at least as long as the "
                        "exposure (" + f"{ex['duration_min']:g} min); "
                        + ("it is not set" if every is None else f"got {every:g} h"),
                        file=file, key=f"{sec}[{i}].repeat_every_h")
            _check_exposure_in_run(ex, f"{sec}[{i}]", time["end_h"], file)
            if sec == "light" and (mean := ex["irradiance_mW_per_cm2"]
                                   * ex["duty_cycle"]) > MAX_MEAN_IRRADIANCE_MW_PER_CM2:
                raise InputError(
                    f"the pulse-averaged irradiance, irradiance x duty_cycle = {mean:g} "
                    f"mW/cm^2, is above {MAX_MEAN_IRRADIANCE_MW_PER_CM2:g} mW/cm^2; allowed: "
                    "an in-pulse irradiance up to 1e12 mW/cm^2 whose average stays below "
                    "that (a pulsed source: lower duty_cycle)", file=file,
                    key=f"light[{i}].irradiance_mW_per_cm2")
        _check_no_overlap(c[sec], sec, file)
    _check_events(c, file)
    _check_step_count(c, file)
    _check_dose_reaches_tissue(c, file)
    # the tissue optics table is needed only where light meets tissue on a grid: a
    # well-mixed compartment sees the entry irradiance, a cell-free geometry has no tissue
    lit_tissue = c["grid"]["kind"] != "well_mixed" and c["geometry"]["kind"] != "medium"
    if "material" in c and c["light"] and lit_tissue:
        from ..materials import light_attenuation_per_cm

        for i, ex in enumerate(c["light"]):
            if "light_attenuation_per_cm" not in c["tissue"]:
                try:
                    light_attenuation_per_cm(ex["wavelength_nm"])
                except NotImplementedError:
                    from ..materials.tissue import LIGHT_WAVELENGTH_NM as table

                    raise InputError(
                        f"{ex['wavelength_nm']:g} nm is outside the tissue optics table "
                        f"({table[0]:g}-{table[-1]:g} nm); allowed: a wavelength in that "
                        "range, or set tissue.light_attenuation_per_cm (1/cm) for this one",
                        file=file, key=f"light[{i}].wavelength_nm") from None
    if "material" in c:
        _check_step_accuracy(c, file)


def _spheroid_fills_grid(c: dict[str, Any]) -> bool:
    """Whether a spheroid holds every voxel (shell) of its grid: the farthest voxel centre
    (shell centre) lies inside it, as `_grid.build_geometry` marks tissue (s <= 1)."""
    grid, geo = c["grid"], c["geometry"]
    h, radius = grid["spacing_um"], geo["radius_um"]
    if grid["kind"] == "radial":
        return (grid["shape"][0] - 0.5) * h / radius <= 1.0
    far = [max((c0 - 0.5 * h) ** 2, ((n - 0.5) * h - c0) ** 2)
           for n, c0 in zip(grid["shape"], geo["center_um"], strict=True)]
    return math.sqrt(far[0] + far[1] + far[2]) / radius <= 1.0


def _check_dose_reaches_tissue(c: dict[str, Any], file: str) -> None:
    """A grid of tissue only (geometry 'uniform', or a spheroid that holds every voxel or
    shell) with zero-flux walls has no medium and no open face for particles to enter by: a
    positive dose there would reach no cell."""
    if (c["grid"]["kind"] == "well_mixed" or c["boundary"]["kind"] != "neumann"
            or "material" not in c):
        return
    kind = c["geometry"]["kind"]
    if kind == "spheroid" and _spheroid_fills_grid(c):
        what = ("a spheroid that holds every voxel (shell) of the grid (geometry.radius_um = "
                f"{c['geometry']['radius_um']:g})")
        instead = "a smaller geometry.radius_um or a larger grid (medium around the tissue)"
    elif kind == "uniform":
        what = "a grid of tissue only (geometry.kind = 'uniform')"
        instead = "geometry.kind = 'spheroid' (tissue in medium)"
    else:
        return
    doses = [("material.dose_ug_per_ml", c["material"]["dose_ug_per_ml"])]
    doses += [(f"dose[{i}].dose_ug_per_ml", d["dose_ug_per_ml"])
              for i, d in enumerate(c["dose"])]
    for key, value in doses:
        if value > 0:
            raise InputError(
                f"{what} with zero-flux walls (boundary.kind = 'neumann') has no medium and "
                f"no open face for particles to enter by, so {value:g} ug/mL would reach no "
                "cell; allowed: 0 here, or boundary.kind = 'dirichlet' (the faces meet the "
                f"dosed medium), {instead} or grid.kind = 'well_mixed' (a culture)",
                file=file, key=key)


def _check_shape(c: dict[str, Any], file: str) -> None:
    kind, shape = c["grid"]["kind"], c["grid"]["shape"]
    want = {"cartesian": 3, "radial": 1}.get(kind)
    if want is not None and len(shape) != want:
        example = "[64, 64, 64] (voxels along x, y, z)" if want == 3 else "[32] (shells)"
        raise InputError(f"grid.shape = {shape} does not fit grid.kind = {kind!r}; allowed: "
                         f"a list of {want} integer{'s' if want > 1 else ''}, e.g. {example}",
                         file=file, key="grid.shape")


#: The largest fraction of an exposure's intensity that may be lost across the spheroid's
#: diameter on a radial grid. Assumed: the symmetric form gives every point the intensity the
#: one-sided beam has at the same depth below the entry surface, so the two differ locally by
#: at most this fraction (less on average over the spheroid); 10 % stays within the spread of
#: reported tissue attenuation coefficients (e.g. 0.3-1 dB/cm/MHz for soft tissue, Duck 1990).
RADIAL_MAX_ATTENUATION = 0.1


def radial_attenuation_across(c: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(section, config key that sets the loss, fraction of the intensity lost across the
    spheroid's diameter) for every exposure of a radial config with a [material] that can
    act (`stimuli.exposure_can_act`): ultrasound 1 − 10^(−a f 2R/10), light
    1 − exp(−μ_eff 2R), R the spheroid (or domain) radius, a and μ_eff the tissue's (a
    cell-free `medium` geometry: the medium's, the only coefficients its exposures meet).
    An exposure that cannot act (light no absorber takes, ultrasound below the cavitation
    threshold) does nothing at any depth, so how it attenuates matters to nothing."""
    from ..stimuli import exposure_can_act
    from ..stimuli.light import tissue_light_attenuation_per_cm

    geo, t = c["geometry"], c["tissue"]
    diameter_cm = 2e-4 * (geo["radius_um"] if geo["kind"] == "spheroid"
                          else c["grid"]["shape"][0] * c["grid"]["spacing_um"])
    cell_free = geo["kind"] == "medium"
    out = []
    for i, ex in enumerate(c["ultrasound"]):
        if not exposure_can_act("ultrasound", ex, c):
            continue
        a = t["medium_ultrasound_attenuation_dB_per_cm_MHz" if cell_free
              else "ultrasound_attenuation_dB_per_cm_MHz"]
        db = a * ex["frequency_MHz"] * diameter_cm
        out.append(("ultrasound", f"ultrasound[{i}].frequency_MHz",
                    1.0 - 10.0 ** (-db / 10.0)))
    for i, ex in enumerate(c["light"]):
        if not exposure_can_act("light", ex, c):
            continue
        try:
            mu = (t["medium_light_attenuation_per_cm"] if cell_free
                  else tissue_light_attenuation_per_cm(ex, t))
        except NotImplementedError:  # no optics table: refused with its own message below
            continue
        # the key that set the coefficient: the medium's or the tissue's own value where
        # given, else the wavelength (the tissue optics table)
        key = ("tissue.medium_light_attenuation_per_cm" if cell_free else
               "tissue.light_attenuation_per_cm" if t.get("light_attenuation_per_cm")
               is not None else f"light[{i}].wavelength_nm")
        out.append(("light", key, 1.0 - math.exp(-mu * diameter_cm)))
    return out


def _check_radial(c: dict[str, Any], file: str) -> None:
    """A radial grid is a spherically symmetric spheroid at r = 0: no centre to choose, a
    radius inside the domain, and only exposures the symmetric form represents. (A single
    radial run is too small to shard: `numerics.devices` only spreads a sweep's points.)"""
    grid, geo = c["grid"], c["geometry"]
    h, outer = grid["spacing_um"], grid["shape"][0] * grid["spacing_um"]
    if geo.get("center_um") is not None:
        raise InputError("a radial grid centres the spheroid at r = 0; remove "
                         "geometry.center_um (or use grid.kind = 'cartesian')", file=file,
                         key="geometry.center_um")
    if geo["kind"] == "spheroid":
        r = geo["radius_um"]
        if not h <= r <= outer:
            # the value as typed, and the bound it breaks, to as many digits as tell them
            # apart (320.0001 is not "radius 320 ... <= 320")
            shown, bound = _distinct_h(r, h if r < h else outer)
            least, most = (bound, f"{outer:g}") if r < h else (f"{h:g}", bound)
            raise InputError(f"radius {shown} um must lie between one shell ({least} um) and "
                             f"the domain radius ({most} um = grid.shape x grid.spacing_um); "
                             f"allowed: {least} <= radius_um <= {most}", file=file,
                             key="geometry.radius_um")
    if "material" not in c:
        return
    for section, key, lost in radial_attenuation_across(c):
        if lost > RADIAL_MAX_ATTENUATION:
            body = "spheroid" if geo["kind"] == "spheroid" else "domain"
            raise InputError(
                f"this {section} exposure, which can make ROS here, loses {100 * lost:.3g} % "
                "of its intensity across "
                f"the {body}'s diameter, so it is one-sided and a radial grid (exposure "
                "from all sides, attenuated by depth below the surface) cannot represent it "
                f"faithfully; allowed: at most {100 * RADIAL_MAX_ATTENUATION:g} % (a weakly "
                "attenuated exposure, a smaller spheroid), or use grid.kind = 'cartesian' "
                "with this exposure entering through the z = 0 face", file=file, key=key)


def _check_no_overlap(exposures: list[dict[str, Any]], sec: str, file: str) -> None:
    """Two exposures of one kind (repeats included) may not be on at once: the protocol is a
    sequence of exposures, and overlapping ones are almost always a typing mistake."""
    windows = []
    for i, ex in enumerate(exposures):
        for r in range(ex["repeats"]):
            start = ex["start_h"] + r * (ex.get("repeat_every_h") or 0.0)
            windows.append((start, start + ex["duration_min"] / 60.0, i, r))
    windows.sort()
    for (s0, e0, i0, r0), (s1, _, i1, r1) in zip(windows, windows[1:], strict=False):
        if s1 < e0 - 1e-9 * max(1.0, e0):
            def name(i: int, r: int) -> str:
                return f"{sec}[{i}]" + (f" (repeat {r + 1})" if exposures[i]["repeats"] > 1
                                        else "")
            w0, w1 = (exposures[i].get("wavelength_nm") for i in (i0, i1))
            merge = ("merge them into one with a higher intensity" if w0 == w1 else
                     f"the model carries one light field at a time, so {w0:g} and {w1:g} nm "
                     "cannot be on together: alternate them")
            raise InputError(
                f"{sec}[{i1}].start_h = {s1:g}: {name(i1, r1)} starts while {name(i0, r0)} "
                f"(from {s0:g} h to {e0:.4g} h) is still on; allowed: exposures of one kind "
                f"that do not overlap (start it at or after {e0:.4g} h, or {merge})",
                file=file, key=f"{sec}[{i1}].start_h")


def _check_events(c: dict[str, Any], file: str) -> None:
    """[[dose]] and [[medium_exchange]]: inside the run, a dose not negative, a dose of
    particles only with a [material]; the fresh medium's pH defaults to ph.medium."""
    end_h = c["time"]["end_h"]
    tol_s = _merge_tolerance_s(end_h * 3600.0)
    for sec in ("dose", "medium_exchange"):
        for i, ev in enumerate(c[sec]):
            t = ev["time_h"]
            where = f"{sec}[{i}]"
            if "material" not in c:
                raise InputError(f"a [[{sec}]] acts on the nanoparticle model; add a "
                                 "[material] section or remove it", file=file, key=where)
            # the step plan merges breakpoints closer than its tolerance: an event that
            # near the end would be merged into it and never act
            if t < 0 or t >= end_h - tol_s / 3600.0:
                raise InputError(f"{where}.time_h = {t:.10g}: outside the run; allowed: 0 <= "
                                 f"time_h < time.end_h = {end_h:g} (by at least "
                                 f"{tol_s:.3g} s)", file=file,
                                 key=f"{where}.time_h")
            if sec == "medium_exchange" and "ph" not in ev:
                ev["ph"] = c["ph"]["medium"]  # follows ph.medium (a sweep's, a plan's)
                _mark_derived(c, f"{where}.ph")
    _check_event_spacing(c, tol_s, file)


def _check_event_spacing(c: dict[str, Any], tol_s: float, file: str) -> None:
    """The step plan acts on events closer than its tolerance as at one time, medium
    exchanges before doses and exchanges in config order: a wash-out and a dose (the t = 0
    one included), or two exchanges, at distinct times closer than that would act out of
    their written order, so they are refused; at exactly equal times the documented order
    holds."""
    def at(key: str, t_h: float) -> str:  # the key and its time, as the message quotes it
        return f"{key} = {t_h:.10g}" if key.endswith("time_h") else key

    events = [(f"medium_exchange[{i}].time_h", ev["time_h"], True)
              for i, ev in enumerate(c["medium_exchange"])]
    events += [(f"dose[{i}].time_h", ev["time_h"], False) for i, ev in enumerate(c["dose"])]
    if events and c.get("material", {}).get("dose_ug_per_ml", 0.0) > 0:
        # its value is the dose, not a time: quoted by name only
        events.append(("material.dose_ug_per_ml (at t = 0)", 0.0, False))
    for i, (key_a, t_a, wash_a) in enumerate(events):
        for key_b, t_b, wash_b in events[i + 1:]:
            gap_s = abs(t_a - t_b) * 3600.0
            if (wash_a or wash_b) and 0.0 < gap_s <= tol_s:
                later = key_a if t_a > t_b and key_a.endswith("time_h") else key_b
                raise InputError(
                    f"{at(key_a, t_a)} and {at(key_b, t_b)} are {gap_s:.3g} s apart, "
                    f"within the {tol_s:.3g} s that the step plan of a "
                    f"{c['time']['end_h']:g} h run merges: they would act as at one time "
                    "(exchanges first), not in their order; allowed: the same time_h (the "
                    f"exchange acts first) or more than {tol_s:.3g} s apart",
                    file=file, key=later.split(" ")[0])


def _distinct_h(a: float, b: float) -> tuple[str, str]:
    """Two different numbers (times in h, a radius and its bound in um) with 4 significant
    digits, or as many more as tell them apart: an exposure that ends a moment after the run
    ("would end at 1 h, after the run ends at 1 h") must read as later, a radius just over
    its limit ("radius 320 um ... allowed: radius_um <= 320") as over it."""
    for digits in range(4, 17):
        x, y = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if x != y:
            return x, y
    return repr(a), repr(b)


def _check_exposure_in_run(ex: dict[str, Any], where: str, end_h: float, file: str) -> None:
    """Every exposure, repeats included, lies in [0, time.end_h]: one still on at the end is
    a mistake the run would otherwise hide. A user's config has those that start at or after
    the end left out, with a note (`drop_beyond_end`); a derived config (a plan's iterate, a
    sweep's point) that moves one there is refused."""
    start, dur_h = ex["start_h"], ex["duration_min"] / 60.0
    eps = 1e-9 * max(1.0, end_h)
    allowed = (f"allowed: start_h < end_h and start_h + duration_min/60 <= end_h "
               f"(time.end_h = {end_h:g}), repeats included; or a longer time.end_h")
    if start >= end_h - eps:
        raise InputError(f"{where}.start_h = {start:g}: the run ends at {end_h:g} h, so this "
                         f"exposure would never happen; {allowed}", file=file,
                         key=f"{where}.start_h")
    if start + dur_h > end_h + eps:
        ends = _distinct_h(start + dur_h, end_h)
        raise InputError(f"{where}.duration_min = {ex['duration_min']:g}: the exposure from "
                         f"{start:g} h would end at {ends[0]} h, after the run ends "
                         f"at {ends[1]} h; {allowed} (here duration_min <= "
                         f"{(end_h - start) * 60.0:.4g})", file=file,
                         key=f"{where}.duration_min")
    tol_s = _merge_tolerance_s(end_h * 3600.0)
    if dur_h * 3600.0 < tol_s:  # the step plan could not tell its start from its end
        raise InputError(f"{where}.duration_min = {ex['duration_min']:g}: shorter than the "
                         f"{tol_s:.3g} s that the step plan of a {end_h:g} h run resolves; "
                         f"allowed: duration_min >= {tol_s / 60.0:.3g}, or a shorter "
                         "time.end_h", file=file, key=f"{where}.duration_min")
    n, every = ex["repeats"], ex.get("repeat_every_h") or 0.0
    last = start + (n - 1) * every
    if n > 1 and last + dur_h > end_h + eps:
        fit = int(math.floor((end_h - start - dur_h + eps) / every)) + 1
        ends = _distinct_h(last + dur_h, end_h)
        raise InputError(f"{where}.repeats = {n}: repeated every {every:g} h from {start:g} h, "
                         f"the last exposure would run from {last:g} h to {ends[0]} h,"
                         f" after the run ends at {ends[1]} h; {allowed} (here repeats <= "
                         f"{fit})", file=file, key=f"{where}.repeats")


def coupling_rates_per_s(c: dict[str, Any]) -> dict[str, float]:
    """The reaction sub-processes whose Lie splitting limits the step (1/s)."""
    k = c["kinetics"]

    def dissolution(ph: float) -> float:
        return dissolution_law_per_s(
            ph, k["dissolution_rate_per_h"], k["dissolution_proton_order"],
            k["dissolution_switch_rate_per_h"], k["dissolution_switch_ph"],
            k["dissolution_switch_steepness_per_ph"])

    # first-order sinks of mobile species (dissolution, uptake, Zn2+ import, clearance) are
    # solved implicitly with the transport and limit no step; these remain split
    rates = {}
    if c["geometry"]["kind"] != "medium":  # processes of cells
        rates.update({
            "lysosomal dissolution": dissolution(c["ph"]["lysosome"]),
            "Zn2+ efflux": k["zn_efflux_per_h"] / 3600.0,
            "GSH resynthesis": k["gsh_resynthesis_per_h"] / 3600.0,
        })
    return rates


def largest_accurate_dt_s(c: dict[str, Any]) -> float:
    """The longest `time.dt_s` the split reactions honour accurately at the config's
    `numerics.reaction_substeps` (inf when nothing couples)."""
    rates = coupling_rates_per_s(c)
    if not rates:
        return math.inf
    return MAX_COUPLING_RATE_TIMES_DT / max(rates.values()) * c["numerics"]["reaction_substeps"]


MAX_STEPS = 10**9  # the solver counts steps in int32 (2.1e9); days of stepping on any grid


def _check_step_count(c: dict[str, Any], file: str) -> None:
    """A run's steps must fit the solver's step counter (int32): at most `MAX_STEPS`, the
    `time.end_h / time.dt_s` steps plus the `time.exposure_min_steps` of every exposure
    (each repeat), and at least one per saved frame. A step or a frame interval far too
    small (`dt_s = 1e-6`, `save_every_min = 1e-300`) is refused here, not by an overflow or
    a list of frames beyond memory when the step plan is built."""
    t = c["time"]
    end_s, save_s = t["end_h"] * 3600.0, t["save_every_min"] * 60.0
    if end_s / save_s > MAX_STEPS:  # every frame takes a step at least
        raise InputError(
            f"save_every_min = {t['save_every_min']:g} min over time.end_h = "
            f"{t['end_h']:g} h saves {end_s / save_s:.3g} frames, each at least one step, "
            f"more than the {MAX_STEPS:,} steps a run can count; allowed: save_every_min >= "
            f"{end_s / MAX_STEPS / 60.0:.3g} min (frames every 10-60 min are usual)",
            file=file, key="time.save_every_min")
    plain = end_s / t["dt_s"]
    if plain > MAX_STEPS:
        raise InputError(
            f"dt_s = {t['dt_s']:g} s over time.end_h = {t['end_h']:g} h takes {plain:.3g} "
            f"steps, more than the {MAX_STEPS:,} a run can count; allowed: dt_s >= "
            f"{t['end_h'] * 3600.0 / MAX_STEPS:.3g} s (steps of 10-300 s are usual)",
            file=file, key="time.dt_s")
    if "material" not in c:
        return
    exposures = sum(int(ex.get("repeats", 1)) for sec in ("ultrasound", "light")
                    for ex in c.get(sec, []))
    inside = exposures * int(t["exposure_min_steps"])
    if plain + inside > MAX_STEPS:
        raise InputError(
            f"exposure_min_steps = {t['exposure_min_steps']} in each of the {exposures} "
            f"exposures (repeats included) and the {plain:,.0f} steps of dt_s take "
            f"{plain + inside:,.0f} steps, more than the {MAX_STEPS:,} a run can count; "
            "allowed: fewer exposure_min_steps or repeats", file=file,
            key="time.exposure_min_steps")


def _check_step_accuracy(c: dict[str, Any], file: str) -> None:
    sub = c["numerics"]["reaction_substeps"]
    h = c["time"]["dt_s"] / sub
    rates = coupling_rates_per_s(c)
    if not rates:
        return
    name, rate = max(rates.items(), key=lambda kv: kv[1])
    if rate * h > MAX_COUPLING_RATE_TIMES_DT:
        allowed = largest_accurate_dt_s(c)
        need = math.ceil(rate * c["time"]["dt_s"] / MAX_COUPLING_RATE_TIMES_DT)
        most = SECTIONS["numerics"]["reaction_substeps"].hi
        # the keys that set each rate, so that an extreme value among them is found
        keys = {"lysosomal dissolution": f"ph.lysosome = {c['ph']['lysosome']:g} and the "
                "kinetics.dissolution_* constants",
                "Zn2+ efflux": "kinetics.zn_efflux_per_h",
                "GSH resynthesis": "kinetics.gsh_resynthesis_per_h"}[name]
        substeps = (f"numerics.reaction_substeps >= {need}" if need <= most else
                    f"a slower {name} (set by {keys}; numerics.reaction_substeps, at most "
                    f"{most}, cannot reach it)")
        raise InputError(
            f"dt_s = {c['time']['dt_s']:g} cannot be honoured accurately: {name} runs at "
            f"{rate * 3600:.3g} /h and rate x sub-step must stay <= "
            f"{MAX_COUPLING_RATE_TIMES_DT}; allowed: dt_s <= {allowed:.4g}, or "
            f"{substeps}", file=file, key="time.dt_s")
