"""The forms of the claim pages and the review console. They parse what people type; services decide."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from coopfunds.accounts.models import Location, User
from coopfunds.claims.models import Claim, ClaimStatus, ReasonCode
from coopfunds.claims.services import Reason
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import currency_choices, money
from coopfunds.documents.models import Document
from coopfunds.funds.models import Fund
from coopfunds.programs.models import ActivityType, CapKind, DocumentKind, Program
from coopfunds.review.workflow import AWAITING_REVIEW
from coopfunds.web.views.common import AmountField, MultipleFileField

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
REASON_ROWS = 3
CERTIFICATION_ROWS = 5
# Where a reviewer's reason may point, besides a document.
CLAIM_FIELDS = [
    ("name", _("Name")),
    ("description", _("Description")),
    ("execution_start", _("Execution dates")),
    ("amount", _("Amount")),
    ("invoice_vendor", _("Invoice vendor")),
    ("invoice_number", _("Invoice number")),
    ("invoice_date", _("Invoice date")),
    ("invoice_amount", _("Invoice amount")),
    ("attendees", _("Attendees")),
    ("metrics", _("Metrics")),
    ("documents", _("Documents")),
]
FIELD_LABELS = dict(CLAIM_FIELDS)
ATTENDEE_CAPS = {CapKind.PER_PERSON, CapKind.PER_EVENT_ATTENDEES, CapKind.PER_EVENT}


class IdsForm(forms.Form):
    """A form whose HTML ids start with its own word, so that several forms on one page never share an id."""

    ids = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.ids}_%s")
        super().__init__(*args, **kwargs)


# --- partner: list, new claim, the claim form ------------------------------------------------------------


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *ClaimStatus.choices])
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), required=False)
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none(), required=False)
    period = forms.ChoiceField(label=_("Usage period"), required=False)

    def __init__(
        self,
        *args: Any,
        locations: QuerySet[Location],
        programs: QuerySet[Program],
        periods: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["location"].empty_label = gettext("All locations")  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["program"].empty_label = gettext("Any program")  # type: ignore[attr-defined]
        any_period = gettext("Any period")
        self.fields["period"].choices = [("", any_period), *((p, p) for p in periods)]  # type: ignore[attr-defined]

    def params(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}


class FundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        fund: Fund = obj
        available = getattr(fund, "bal_available", None)  # funds_with_balances
        left = (
            gettext("%(amount)s available") % {"amount": money(available, fund.currency)}
            if available is not None
            else fund.currency
        )
        return gettext(
            "%(location)s (%(partner_id)s) · %(program)s · %(period)s: %(left)s, claims %(opens)s – %(closes)s"
        ) % {
            "location": fund.location.name,
            "partner_id": fund.location.partner_id,
            "program": fund.program.name,
            "period": fund.label,
            "left": left,
            "opens": day_lazy(fund.claim_opens),
            "closes": day_lazy(fund.claim_closes),
        }


class ActivityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_category_display()})"


class NewClaimForm(forms.Form):
    fund = FundChoiceField(
        label=_("Fund (usage period)"),
        queryset=Fund.objects.none(),
        empty_label=_("Choose a fund"),
        help_text=_("The co-op of one location and program you spend, with what is left and when claims are accepted."),
    )
    activity_type = ActivityChoiceField(
        label=_("Activity"), queryset=ActivityType.objects.none(), required=False, empty_label=_("Choose an activity")
    )
    name = forms.CharField(
        label=_("Claim name"), max_length=200, required=False, help_text=_("E.g. Autumn webinar series.")
    )

    def __init__(self, *args: Any, funds: QuerySet[Fund], activities: QuerySet[ActivityType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds  # type: ignore[attr-defined]
        self.fields["activity_type"].queryset = activities  # type: ignore[attr-defined]


def needs_attendees(activity: ActivityType) -> bool:
    return any(cap.kind in ATTENDEE_CAPS and not cap.exempt for cap in activity.caps.all())


class ClaimForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("What was done.")
    )
    execution_start = forms.DateField(label=_("Executed from"), required=False, widget=DATE_INPUT)
    execution_end = forms.DateField(label=_("Executed until"), required=False, widget=DATE_INPUT)
    amount = AmountField(label=_("Amount claimed"), required=False, help_text=_("E.g. 1250.00"))
    invoice_vendor = forms.CharField(label=_("Invoice vendor"), max_length=200, required=False)
    invoice_vendor_tax_id = forms.CharField(label=_("Invoice vendor's tax ID"), max_length=64, required=False)
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=64, required=False)
    invoice_date = forms.DateField(label=_("Invoice date"), required=False, widget=DATE_INPUT)
    invoice_amount = AmountField(label=_("Invoice amount"), required=False)
    invoice_currency = forms.ChoiceField(label=_("Invoice currency"), required=False)
    attendees = forms.IntegerField(
        label=_("Attendees"), required=False, min_value=1, max_value=100000, help_text=_("People who took part.")
    )
    comments = forms.CharField(
        label=_("Comments for the reviewer"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, claim: Claim, **kwargs: Any) -> None:
        metrics = dict(claim.metrics or {})
        kwargs.setdefault(
            "initial",
            {
                **{name: getattr(claim, name) for name in self.base_fields if hasattr(claim, name)},
                "invoice_currency": claim.invoice_currency or claim.currency,
                **{f"metric_{i}": metrics.get(m, "") for i, m in enumerate(claim.activity_type.metrics)},
            },
        )
        super().__init__(*args, **kwargs)
        self.claim = claim
        self.fields["invoice_currency"].choices = [("", "—"), *currency_choices()]  # type: ignore[attr-defined]
        if not needs_attendees(claim.activity_type):
            del self.fields["attendees"]
        self.metric_names = list(claim.activity_type.metrics)
        for i, metric in enumerate(self.metric_names):
            self.fields[f"metric_{i}"] = forms.CharField(label=metric, max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("execution_start"), data.get("execution_end")
        if start and end and end < start:
            self.add_error("execution_end", gettext("The end date is before the start date."))
        return data

    def values(self) -> dict[str, Any]:
        """What to give claim_update: the fields that parsed (all of them once the form is valid)."""
        data = self.cleaned_data
        out = {n: data[n] for n in self.fields if not n.startswith("metric_") and n in data}
        if self.metric_names:
            out["metrics"] = {
                m: data[f"metric_{i}"].strip()
                for i, m in enumerate(self.metric_names)
                if data.get(f"metric_{i}", "").strip()
            }
        return out

    def metric_fields(self) -> list[forms.BoundField]:
        return [self[f"metric_{i}"] for i in range(len(self.metric_names))]


def document_kinds(activity: ActivityType) -> list[tuple[str, str]]:
    """The activity's document kinds first, then invoice, certification report, proof and other."""
    labels = {k: str(label) for k, label in DocumentKind.choices}
    kinds = [(r.kind, labels.get(r.kind, r.kind)) for r in activity.document_requirements.all()]
    for kind, label in [
        (DocumentKind.INVOICE.value, labels[DocumentKind.INVOICE]),
        (DocumentKind.CERTIFICATION_REPORT.value, labels[DocumentKind.CERTIFICATION_REPORT]),
        ("proof", gettext("Proof document (say in the note what it proves)")),
        (DocumentKind.OTHER.value, gettext("Other")),
    ]:
        if kind not in {k for k, _label in kinds}:
            kinds.append((kind, label))
    return kinds


class UploadForm(IdsForm):
    ids = "upload"

    # Named like the API's multipart part; Django moves fields off the class, so `form.files` stays the uploads.
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Files"), help_text=_("Choose several files at once, or drop them here. PDF, images, Office files.")
    )
    kind = forms.ChoiceField(label=_("What are they?"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for proof documents: what they show."),
    )

    def __init__(self, *args: Any, activity: ActivityType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = document_kinds(activity)  # type: ignore[attr-defined]


class CertificationForm(IdsForm):
    ids = "cert"

    description = forms.CharField(
        label=_("Work done in-house"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("What your people did for this activity."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, CERTIFICATION_ROWS + 1):
            n = {"n": i}
            self.fields[f"person_{i}"] = forms.CharField(
                label=gettext("Person %(n)s") % n, required=False, max_length=100
            )
            self.fields[f"hours_{i}"] = forms.CharField(
                label=gettext("Hours of person %(n)s") % n, required=False, max_length=12
            )
            self.fields[f"rate_{i}"] = forms.CharField(
                label=gettext("Hourly rate of person %(n)s") % n, required=False, max_length=24
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"person_{i}"], self[f"hours_{i}"], self[f"rate_{i}"]) for i in range(1, CERTIFICATION_ROWS + 1)]

    def lines(self) -> list[tuple[str, object, object]]:
        data = self.cleaned_data
        return [
            (data.get(f"person_{i}", ""), data.get(f"hours_{i}", ""), data.get(f"rate_{i}", ""))
            for i in range(1, CERTIFICATION_ROWS + 1)
        ]


class ColleagueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name()} ({obj.email})"


class RequestDocumentsForm(IdsForm):
    ids = "ask"

    colleague = ColleagueChoiceField(
        label=_("Colleague"), queryset=User.objects.none(), empty_label=_("Choose a colleague")
    )
    message = forms.CharField(
        label=_("What should they add?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, colleagues: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = colleagues  # type: ignore[attr-defined]


class CommentForm(IdsForm):
    ids = "comment"

    message = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(IdsForm):
    ids = "note"

    message = forms.CharField(
        label=_("Internal note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Vendor staff only."),
    )


class WithdrawForm(IdsForm):
    ids = "withdraw"

    reason = forms.CharField(label=_("Why withdraw? (optional)"), required=False, max_length=1000)


class DisputeForm(IdsForm):
    ids = "dispute"

    reason = forms.CharField(
        label=_("Why is the rejection wrong?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- review console ---------------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("kind of item", "What"),
        required=False,
        choices=[("", _("Claims and proofs")), ("claim", _("Claims")), ("proof", _("Proofs of execution"))],
    )
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("Any program")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Waiting for review")), *((s.value, s.label) for s in ClaimStatus if s in AWAITING_REVIEW)],
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]

    def params(self) -> dict[str, Any]:
        return {name: self.data.get(name, "") for name in self.fields}


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name()


class AssignForm(IdsForm):
    ids = "assign"

    reviewer = ReviewerChoiceField(
        label=_("Reviewer"), queryset=User.objects.none(), required=False, empty_label=_("Me")
    )

    def __init__(self, *args: Any, reviewers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(pk__in=[u.pk for u in reviewers])  # type: ignore[attr-defined]


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.original_name


DECISIONS = [("approve", _("Approve")), ("request_action", _("Request action")), ("reject", _("Reject"))]


class DecisionForm(IdsForm):
    ids = "decision"

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.HiddenInput)
    amount = AmountField(
        label=_("Approve only"), required=False, help_text=_("Leave empty to approve the full amount.")
    )
    message = forms.CharField(
        label=_("Message to the partner"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, codes: QuerySet[ReasonCode], documents: list[Document], partial: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not partial:
            del self.fields["amount"]
        for i in range(1, REASON_ROWS + 1):
            n = {"n": i}
            self.fields[f"reason_{i}"] = forms.ModelChoiceField(
                label=gettext("Reason %(n)s") % n,
                queryset=codes,
                to_field_name="code",
                required=False,
                empty_label=gettext("No reason") if i > 1 else gettext("Choose a reason"),
            )
            self.fields[f"reason_{i}_document"] = DocumentChoiceField(
                label=gettext("Document (reason %(n)s)") % n,
                queryset=Document.objects.filter(pk__in=[d.pk for d in documents]),
                required=False,
                empty_label=gettext("No document"),
            )
            self.fields[f"reason_{i}_field"] = forms.ChoiceField(
                label=gettext("Field (reason %(n)s)") % n,
                required=False,
                choices=[("", gettext("No field")), *CLAIM_FIELDS],
            )
            self.fields[f"reason_{i}_note"] = forms.CharField(
                label=gettext("Note (reason %(n)s)") % n, required=False, max_length=1000
            )

    def reason_rows(self) -> list[tuple[forms.BoundField, ...]]:
        return [
            (self[f"reason_{i}"], self[f"reason_{i}_document"], self[f"reason_{i}_field"], self[f"reason_{i}_note"])
            for i in range(1, REASON_ROWS + 1)
        ]

    def reasons(self) -> list[Reason]:
        data, out = self.cleaned_data, []
        for i in range(1, REASON_ROWS + 1):
            code = data.get(f"reason_{i}")
            if code is None:
                continue
            document = data.get(f"reason_{i}_document")
            out.append(
                Reason(
                    code=code.code,
                    note=data.get(f"reason_{i}_note", ""),
                    document_id=document.pk if document else None,
                    field=data.get(f"reason_{i}_field", ""),
                )
            )
        return out
