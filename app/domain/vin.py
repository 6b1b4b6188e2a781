"""Vehicle identification numbers (ISO 3779), as DOMAIN.md describes them.

Format is always enforced; the position-9 check digit is enforced only for
North-American VINs (first character 1-5) of model year 1981 or later and is a
warning elsewhere. Pre-1981 and non-standard chassis numbers are allowed only with
the explicit ``legacy`` flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
LEGACY_RE = re.compile(r"^[A-Z0-9][A-Z0-9 .\-/]{1,23}$")
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


@dataclass
class VinCheck:
    vin: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_vin(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def check_digit(vin: str) -> str:
    """The expected position-9 character of a 17-character VIN."""
    total = sum(_VALUES[ch] * w for ch, w in zip(vin, _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_north_american(vin: str) -> bool:
    return vin[:1] in {"1", "2", "3", "4", "5"}


def check_vin(value: str | None, model_year: int | None = None, legacy: bool = False) -> VinCheck:
    """Validate a VIN; ``errors`` reject it, ``warnings`` are shown but accepted."""
    vin = normalise_vin(value)
    result = VinCheck(vin)
    if not vin:
        result.errors.append(str(_l("Enter the VIN.")))
        return result
    if legacy:
        if not LEGACY_RE.match(vin):
            result.errors.append(str(_l("A chassis number has 2 to 24 letters, digits, spaces, dots, dashes or slashes.")))
        elif model_year is not None and model_year >= 1981 and VIN_RE.match(vin):
            # The flag is for classics; it must not waive the check digit of a modern VIN.
            _check_check_digit(vin, result)
        return result
    # Before the format checks: a classic's number fails them, and the flag is the fix.
    if model_year is not None and model_year < 1981:
        result.errors.append(str(_l("Cars built before 1981 have no standard VIN: tick 'legacy chassis number'.")))
        return result
    if len(vin) != 17:
        result.errors.append(
            str(
                _l(
                    "A VIN has 17 characters; this one has %(n)s. For a classic car, tick 'legacy chassis number'.",
                    n=len(vin),
                )
            )
        )
        return result
    if not VIN_RE.match(vin):
        result.errors.append(str(_l("A VIN uses only A-Z (never I, O or Q) and 0-9.")))
        return result
    _check_check_digit(vin, result)
    return result


def _check_check_digit(vin: str, result: VinCheck) -> None:
    """Position 9: an error for North-American VINs, a warning for all others."""
    expected = check_digit(vin)
    if vin[8] != expected:
        if is_north_american(vin):
            result.errors.append(str(_l("The VIN's check digit (position 9) should be %(d)s; check for a typo.", d=expected)))
        else:
            result.warnings.append(str(_l("The VIN's check digit does not match; usual for cars built outside North America.")))


def decode_vin(vin: str) -> dict[str, str]:
    """Manufacturer, region and model-year candidates, decoded offline by ``vininfo``."""
    from vininfo import Vin
    from vininfo.common import UnsupportedBrand

    vin = normalise_vin(vin)
    if not VIN_RE.match(vin):
        return {}
    try:
        info = Vin(vin)
        assembler = info.assembler
        # vininfo names an unknown WMI after its placeholder class "UnsupportedBrand".
        manufacturer = "" if isinstance(assembler, UnsupportedBrand) else (info.manufacturer or "")
        region = info.region or ""
        years = ", ".join(str(y) for y in (info.years or []))
    except Exception:  # noqa: BLE001 - vininfo's brand-specific decoders may raise anything
        return {}
    return {"manufacturer": manufacturer, "region": region, "years": years}


_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980+i, cycling every 30 years


def build_vin(wmi: str, vds: str, model_year: int, plant: str, serial: int) -> str:
    """A well-formed VIN with a correct check digit (for demo and synthetic data)."""
    year_code = _YEAR_CODES[(model_year - 1980) % 30]
    draft = f"{wmi}{vds}0{year_code}{plant}{serial:06d}".upper()
    if not VIN_RE.match(draft):  # not an assert: it must hold under ``python -O`` too
        raise ValueError(f"cannot build a VIN from {draft!r}: 3+5+1+1+1+6 characters, no I, O or Q")
    return draft[:8] + check_digit(draft) + draft[9:]
