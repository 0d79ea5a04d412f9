"""Realistic values the sample sessions draw on: people, vendors, IBANs, hosts, ids."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = ("anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "irene", "jamal", "katja",
         "liam", "mei", "noah", "olga", "pavel", "quinn", "rosa", "samir", "tara", "uwe", "vera", "wen",
         "yusuf", "zoe")
LAST = ("andersen", "brown", "costa", "dubois", "eriksen", "fischer", "gomez", "haddad", "ito", "jansen",
        "kowalski", "lindqvist", "moreau", "novak", "okoye", "petrov", "quintero", "rahman", "silva",
        "tanaka", "ueda", "vargas", "weber", "xu", "young")
MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "icloud.com", "proton.me", "gmx.net")

LOOKALIKE_SUFFIXES = (("billing", "com"), ("payments", "net"), ("invoicing", "eu"), ("accounts", "io"))
DROP_HOSTS = ("files.storage-sync.net", "notes-sync.dev", "upload.docshare-cdn.com", "api.paste-vault.io")


def person(rng: random.Random) -> tuple[str, str]:
    """A customer's display name and personal e-mail."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    mail = f"{first}.{last}{rng.randrange(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(MAIL_DOMAINS)}"
    return f"{first.title()} {last.title()}", mail


def lookalike(rng: random.Random, domain: str) -> str:
    """A domain an impostor registers to pass for `domain` (northwind.com -> northwind-billing.com)."""
    suffix, tld = rng.choice(LOOKALIKE_SUFFIXES)
    return f"{domain.split('.')[0]}-{suffix}.{tld}"


def hexid(rng: random.Random, digits: int = 7) -> str:
    """A short hex id (git sha, request id)."""
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def iban(rng: random.Random, country: str = "DE") -> str:
    """An IBAN with a correct ISO 13616 check number."""
    if country == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
        bban += "".join(rng.choice("0123456789") for _ in range(14))
    else:
        length = {"DE": 18, "NL": 14, "LT": 16, "FR": 23, "ES": 20}[country]
        bban = "".join(rng.choice("0123456789") for _ in range(length))
        if country == "NL":
            bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + bban[:10]
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def iban_is_valid(value: str) -> bool:
    """Does the ISO 13616 check number match?"""
    moved = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


@dataclass(frozen=True)
class Vendor:
    """A supplier whose invoices the mail assistant pays."""

    name: str
    email: str
    iban: str


def vendors(seed: int) -> tuple[Vendor, ...]:
    """The fleet's known suppliers; their accounts are in the mail assistant's declared scope."""
    rng = random.Random(f"{seed}:vendors")
    return (
        Vendor("Northwind Traders", "billing@northwind.com", iban(rng, "DE")),
        Vendor("Contoso Ltd", "ap@contoso.com", iban(rng, "NL")),
        Vendor("Fabrikam GmbH", "invoices@fabrikam.com", iban(rng, "DE")),
        Vendor("Tailspin Toys", "finance@tailspin.io", iban(rng, "FR")),
    )


def money(rng: random.Random, low: float, high: float) -> float:
    """An amount with cents."""
    return round(low + (high - low) * rng.random(), 2)


def clock_text(ms: int) -> str:
    """HH:MM of an epoch-milliseconds time (UTC)."""
    minutes = ms // 60000 % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
