"""The import columns' headers as people read them (the catalogue's existing labels of
``app.views.labels``, which a service cannot import), for templates and for recognising
the headers of a file written in any of the languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

COLUMN_LABELS = {
    "car": {
        "stock_number": _l("Stock no."),
        "vin": _l("VIN"),
        "legacy_chassis_number": _l("Legacy chassis number"),
        "make": _l("Make"),
        "model": _l("Model"),
        "trim": _l("Trim"),
        "year": _l("Year"),
        "body_type": _l("Body"),
        "fuel": _l("Fuel"),
        "transmission": _l("Transmission"),
        "exterior_colour": _l("Exterior colour"),
        "interior_colour": _l("Interior colour"),
        "mileage": _l("Mileage"),
        "mileage_unit": _l("Unit"),
        "condition": _l("Condition"),
        "status": _l("Status"),
        "acquired_on": _l("Acquired"),
        "currency": _l("Currency"),
        "asking_price": _l("Asking price"),
    },
    "client": {
        "first_name": _l("First name"),
        "last_name": _l("Last name"),
        "email": _l("Email"),
        "phone": _l("Phone"),
        "address_line1": _l("Address"),
        "address_line2": _l("Address (line 2)"),
        "city": _l("City"),
        "postal_code": _l("Postal code"),
        "country": _l("Country"),
        "notes": _l("Notes"),
    },
}
# Other wordings files use for the same columns (compared by ``importing.header_key``).
EXTRA_ALIASES = {
    "car": {
        "stock": "stock_number",
        "stockno": "stock_number",
        "stocknumber": "stock_number",
        "price": "asking_price",
        "chassisnumber": "vin",
        "fin": "vin",
        "km": "mileage",
        "odometer": "mileage",
        "colour": "exterior_colour",
        "color": "exterior_colour",
        "body": "body_type",
    },
    "client": {
        "mail": "email",
        "emailaddress": "email",
        "telephone": "phone",
        "mobile": "phone",
        "firstname": "first_name",
        "lastname": "last_name",
        "surname": "last_name",
        "zip": "postal_code",
        "postcode": "postal_code",
        "street": "address_line1",
        "address1": "address_line1",
        "address2": "address_line2",
    },
}

# An example row per template (the VIN is a real VW one; its check digit only warns).
EXAMPLES = {
    "car": {
        "stock_number": "A-1001",
        "vin": "WVWZZZ1JZ3W386752",
        "make": "Volkswagen",
        "model": "Golf",
        "year": 2019,
        "mileage": 45000,
        "fuel": "petrol",
        "status": "available",
        "currency": "EUR",
        "asking_price": "12500.00",
    },
    "client": {
        "first_name": "Anna",
        "last_name": "Example",
        "email": "anna@example.org",
        "phone": "+49 30 1234567",
        "city": "Berlin",
        "country": "DE",
    },
}
