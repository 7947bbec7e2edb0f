"""The activity catalogue as plain data: what an activity type, its document requirements and its caps look
like before they are saved, and the checks on them (pure, no queries). Services and the preset use these."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from coopfunds.programs.models import ActivityCategory, CapKind, DocumentKind, ExpenseCategory

AMOUNT_KINDS = frozenset({CapKind.PERIOD_AMOUNT, CapKind.PER_PERSON, CapKind.PER_EVENT})
MAX_AMOUNT = Decimal("9999999999999999.99")  # MoneyField: 18 digits, 2 decimal places
SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
FISCAL_YEARS = range(2000, 2101)


@dataclass(frozen=True)
class DocumentSpec:
    kind: str
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class CapSpec:
    kind: str
    amount: Decimal | None = None
    percent: Decimal | None = None
    count: int | None = None
    expense: str = ""
    exempt: bool = False


@dataclass(frozen=True)
class ActivitySpec:
    code: str
    name: str
    category: str
    core_requirements: str = ""
    metrics: tuple[str, ...] = ()
    eligible_expenses: str = ""
    ineligible_expenses: str = ""
    expense_categories: tuple[str, ...] = ()
    cost_share_percent: Decimal | None = None
    documents: tuple[DocumentSpec, ...] = ()
    caps: tuple[CapSpec, ...] = ()


def check_fiscal_year(fiscal_year: int, errors: dict[str, str], key: str = "fiscal_year") -> None:
    if fiscal_year not in FISCAL_YEARS:
        errors[key] = _("Give a fiscal year between %(first)s and %(last)s (FY27 is 2027).") % {
            "first": FISCAL_YEARS[0],
            "last": FISCAL_YEARS[-1],
        }


def check_code(code: str, errors: dict[str, str], max_length: int) -> None:
    if not code:
        errors["code"] = _("Give a short code, e.g. digital-advertising.")
    elif len(code) > max_length or not SLUG.fullmatch(code):
        errors["code"] = _(
            "A code has at most %(n)s characters: lowercase letters, digits, and single hyphens or underscores "
            "between them."
        ) % {"n": max_length}


def check_name(name: str, errors: dict[str, str], max_length: int = 200) -> None:
    if not name:
        errors["name"] = _("Give it a name.")
    elif len(name) > max_length:
        errors["name"] = _("Keep the name to %(n)s characters or fewer.") % {"n": max_length}


def check_category(category: str, errors: dict[str, str]) -> None:
    if category not in ActivityCategory.values:
        names = ", ".join(str(label).lower() for label in ActivityCategory.labels)
        errors["category"] = _("Choose a category: %(names)s.") % {"names": names}


def clean_metrics(metrics: Iterable[str], errors: dict[str, str]) -> list[str]:
    cleaned = [m.strip() for m in metrics if m.strip()]
    if any(len(m) > 100 for m in cleaned):
        errors["metrics"] = _("Keep each metric's name to 100 characters or fewer.")
    elif len({m.lower() for m in cleaned}) != len(cleaned):
        errors["metrics"] = _("A metric is listed twice.")
    return cleaned


def clean_funding(
    categories: Iterable[str], share: Decimal | None, errors: dict[str, str]
) -> tuple[list[str], Decimal | None]:
    """The expense categories an activity type funds (in the catalogue's order, each once) and its cost share."""
    given = set(categories)
    unknown = sorted(given - set(ExpenseCategory.values))
    if unknown:
        errors["expense_categories"] = _("“%(code)s” is not an expense category; use one of: %(known)s.") % {
            "code": unknown[0],
            "known": ", ".join(ExpenseCategory.values),
        }
    if share is not None and not (
        Decimal(share).is_finite() and 0 <= share <= 100 and decimal_places(Decimal(share)) <= 2
    ):
        errors["cost_share_percent"] = _("The vendor's share is a percentage from 0 to 100, with at most two decimals.")
    return [c for c in ExpenseCategory.values if c in given], share


def clean_documents(documents: Iterable[DocumentSpec], errors: dict[str, str]) -> list[DocumentSpec]:
    cleaned: list[DocumentSpec] = []
    problems: list[str] = []
    for n, doc in enumerate(documents, start=1):
        note = doc.note.strip()
        if doc.kind not in DocumentKind.values:
            problems.append(
                _("Document %(n)s: “%(kind)s” is not a kind of document we know.") % {"n": n, "kind": doc.kind}
            )
        elif any(d.kind == doc.kind for d in cleaned):
            problems.append(
                _("Document %(n)s: %(kind)s is listed twice.") % {"n": n, "kind": DocumentKind(doc.kind).label}
            )
        elif len(note) > 300:
            problems.append(_("Document %(n)s: keep the note to 300 characters or fewer.") % {"n": n})
        else:
            cleaned.append(DocumentSpec(kind=doc.kind, required=doc.required, note=note))
    if problems:
        errors["documents"] = " ".join(problems)
    return cleaned


def decimal_places(value: Decimal) -> int:
    """How many decimal places a finite Decimal is written with (12.50 -> 2, 12 -> 0)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _cap_problem(cap: CapSpec) -> str | None:
    """What is wrong with one cap, in words, or None."""
    if cap.kind not in CapKind.values:
        return _("choose what kind of limit it is.")
    label = CapKind(cap.kind).label.lower()
    if len(cap.expense) > 100:
        return _("keep the expense to 100 characters or fewer.")
    if cap.amount is not None and (
        not cap.amount.is_finite() or not 0 < cap.amount <= MAX_AMOUNT or decimal_places(cap.amount) > 2
    ):
        return _("(%(kind)s) the amount must be more than zero, with at most two decimal places.") % {"kind": label}
    if cap.kind in AMOUNT_KINDS:
        if cap.amount is None:
            return _("(%(kind)s) give an amount greater than zero.") % {"kind": label}
        if cap.percent is not None or cap.count is not None:
            return _("(%(kind)s) a fixed amount takes no percentage and no number of attendees.") % {"kind": label}
    elif cap.kind == CapKind.PERIOD_PERCENT:
        if cap.percent is None or not cap.percent.is_finite() or not Decimal(0) < cap.percent <= Decimal(100):
            return _("(%(kind)s) the percentage must be more than 0 and at most 100.") % {"kind": label}
        if decimal_places(cap.percent) > 2:
            return _("(%(kind)s) give the percentage with at most two decimal places.") % {"kind": label}
        if cap.count is not None:
            return _(
                "(%(kind)s) a percentage takes no number of attendees (an amount is the floor: “the greater of”)."
            ) % {"kind": label}
    else:  # attendees per event
        if cap.count is None or cap.count <= 0:
            return _("(%(kind)s) give the number of attendees, at least 1.") % {"kind": label}
        if cap.amount is not None or cap.percent is not None:
            return _("(%(kind)s) a number of attendees takes no amount and no percentage.") % {"kind": label}
    return None


def clean_caps(caps: Iterable[CapSpec], errors: dict[str, str]) -> list[CapSpec]:
    cleaned: list[CapSpec] = []
    problems: list[str] = []
    for n, cap in enumerate(caps, start=1):
        cap = CapSpec(
            kind=cap.kind,
            amount=cap.amount,
            percent=cap.percent,
            count=cap.count,
            expense=cap.expense.strip(),
            exempt=cap.exempt,
        )
        problem = _cap_problem(cap)
        if problem:
            problems.append(_("Cap %(n)s: %(problem)s") % {"n": n, "problem": problem})
        else:
            cleaned.append(cap)
    if problems:
        errors["caps"] = " ".join(problems)
    return cleaned
