"""International transfers (GDPR Chapter V): which countries are inside the EEA.

Personal data processed by a company in a country outside the European Economic Area is
a transfer and needs a safeguard (an adequacy decision, standard contractual clauses or
binding corporate rules).
"""

from __future__ import annotations

# The 27 EU member states plus Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2).
EEA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)


def is_transfer(country: str | None) -> bool:
    """True when processing in ``country`` is a transfer out of the EEA (an unknown
    country is treated as one: nobody can show it is not)."""
    return (country or "").upper() not in EEA_COUNTRIES
