"""The forms of the plan pages: they parse what people type; the services decide (and say what is wrong)."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy

from coopfunds.accounts.models import Location, User
from coopfunds.claims.models import ReasonCode
from coopfunds.documents.models import Document
from coopfunds.plans.models import Campaign, ExcessPolicy, PlanActivity
from coopfunds.plans.services import Reason
from coopfunds.programs.models import ActivityType, DocumentKind, Program
from coopfunds.web.views.common import AmountField, AmountText, MultipleFileField

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "24"})
REASON_ROWS = 3
CERTIFICATION_ROWS = 5
PROOF_FIELDS = [
    ("name", gettext_lazy("Name")),
    ("execution_date", gettext_lazy("Execution date")),
    ("amount", gettext_lazy("Amount")),
    ("estimated_impressions", gettext_lazy("Estimated impressions")),
    ("pre_approval_id", gettext_lazy("Pre-approval ID")),
    ("invoice_vendor", gettext_lazy("Invoice vendor")),
    ("invoice_number", gettext_lazy("Invoice number")),
    ("invoice_date", gettext_lazy("Invoice date")),
    ("invoice_amount", gettext_lazy("Invoice amount")),
    ("documents", gettext_lazy("Documents")),
]
FIELD_LABELS = dict(PROOF_FIELDS)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name()


class NewPlanForm(forms.Form):
    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"), queryset=Location.objects.none(), empty_label=gettext_lazy("Choose a location")
    )
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"), queryset=Program.objects.none(), empty_label=gettext_lazy("Choose a program")
    )
    fiscal_year = forms.TypedChoiceField(label=gettext_lazy("Program year"), coerce=int)
    name = forms.CharField(
        label=gettext_lazy("Plan name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("E.g. FY27 cloud marketing."),
    )
    reviewer = PersonChoiceField(
        label=gettext_lazy("Vendor reviewer"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose later"),
        help_text=gettext_lazy("The person at the vendor who reviews your plan."),
    )

    def __init__(
        self,
        *args: Any,
        locations: QuerySet[Location],
        programs: QuerySet[Program],
        years: list[tuple[int, str]],
        reviewers: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["fiscal_year"].choices = years  # type: ignore[attr-defined]
        self.fields["reviewer"].queryset = reviewers  # type: ignore[attr-defined]


class PlanForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Plan name"), max_length=200, required=False)
    reviewer = PersonChoiceField(
        label=gettext_lazy("Vendor reviewer"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Nobody yet"),
    )

    def __init__(self, *args: Any, reviewers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers  # type: ignore[attr-defined]


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Campaign name"), max_length=200, required=False)
    start = forms.DateField(label=gettext_lazy("Starts"), widget=DATE_INPUT, required=False)
    end = forms.DateField(label=gettext_lazy("Ends"), widget=DATE_INPUT, required=False)
    budget = AmountText(
        label=gettext_lazy("Budget"),
        widget=MONEY_INPUT,
        required=False,
        help_text=gettext_lazy("E.g. 8000 or 8000.50."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    @classmethod
    def of(cls, campaign: Campaign) -> "CampaignForm":
        return cls(
            initial={
                "name": campaign.name,
                "start": campaign.start,
                "end": campaign.end,
                "budget": f"{campaign.budget}",
                "description": campaign.description,
            }
        )


class ActivityTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        caps = [str(c) for c in obj.caps.all() if not c.exempt]
        named = f"{obj.name} ({obj.get_category_display()})"
        return (
            gettext("%(activity)s: at most %(caps)s") % {"activity": named, "caps": "; ".join(caps)} if caps else named
        )


class ActivityForm(forms.Form):
    activity_type = ActivityTypeChoiceField(
        label=gettext_lazy("Activity"),
        queryset=ActivityType.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose an activity"),
    )
    countries = forms.CharField(
        label=gettext_lazy("Countries"),
        required=False,
        help_text=gettext_lazy("Two-letter codes, separated by commas: DE, FR, US."),
    )
    planned_amount = AmountText(label=gettext_lazy("Planned amount"), widget=MONEY_INPUT, required=False)
    expected_reach = forms.IntegerField(label=gettext_lazy("Expected reach (people)"), min_value=0, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, activity_types: QuerySet[ActivityType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activity_type"].queryset = activity_types  # type: ignore[attr-defined]

    @staticmethod
    def initial_of(activity: PlanActivity) -> dict[str, Any]:
        return {
            "activity_type": activity.activity_type,
            "countries": ", ".join(activity.countries),
            "planned_amount": f"{activity.planned_amount}",
            "expected_reach": activity.expected_reach,
            "description": activity.description,
        }


class CommentForm(forms.Form):
    message = forms.CharField(label=gettext_lazy("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class NoteForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Internal note (vendor staff only)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class AssignForm(forms.Form):
    reviewer = PersonChoiceField(
        label=gettext_lazy("Reviewer"), queryset=User.objects.none(), required=False, empty_label=gettext_lazy("Me")
    )

    def __init__(self, *args: Any, reviewers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = User.objects.filter(pk__in=[u.pk for u in reviewers]).order_by("full_name")  # type: ignore[attr-defined]


class RulesForm(forms.Form):
    resubmit_days = forms.IntegerField(
        label=gettext_lazy("Days to change and resubmit after the program year"), required=False
    )
    proof_due_days = forms.IntegerField(
        label=gettext_lazy("Days after a campaign starts until proof is due"), required=False
    )
    proof_warning_days = forms.IntegerField(label=gettext_lazy("Days of warning before proof is due"), required=False)
    excess = forms.ChoiceField(
        label=gettext_lazy("Approved proof above the plan's limit"), choices=ExcessPolicy.choices
    )

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v is not None}


class _Reasons(forms.Form):
    """Reason rows: a code, what it is about, a note. Subclasses add the "about" choices."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=[], error_messages={"required": gettext_lazy("Choose a decision.")}
    )
    message = forms.CharField(
        label=gettext_lazy("Message to the partner"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, codes: QuerySet[ReasonCode], about: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((c.code, c.label) for c in codes)]
        for i in range(REASON_ROWS):
            self.fields[f"reason_{i}"] = forms.ChoiceField(
                label=gettext("Reason %(n)s") % {"n": i + 1}, choices=choices, required=False
            )
            self.fields[f"about_{i}"] = forms.ChoiceField(label=gettext_lazy("About"), choices=about, required=False)
            self.fields[f"note_{i}"] = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)

    def reason_rows(self) -> list[tuple[Any, ...]]:
        return [(self[f"reason_{i}"], self[f"about_{i}"], self[f"note_{i}"]) for i in range(REASON_ROWS)]

    def _about(self, value: str) -> dict[str, Any]:
        kind, _, pk = value.partition(":")
        return (
            {f"{kind}_id": int(pk)}
            if kind in ("campaign", "activity", "document") and pk.isdigit()
            else ({"field": pk} if kind == "field" else {})
        )

    def reasons(self) -> list[Reason]:
        out = []
        for i in range(REASON_ROWS):
            code = self.cleaned_data.get(f"reason_{i}")
            if code:
                out.append(
                    Reason(
                        code=code,
                        note=self.cleaned_data.get(f"note_{i}", ""),
                        **self._about(self.cleaned_data.get(f"about_{i}", "")),
                    )
                )
        return out


class PlanDecisionForm(_Reasons):
    DECISIONS = [
        ("approve", gettext_lazy("Approve")),
        ("request_changes", gettext_lazy("Request changes")),
        ("reject", gettext_lazy("Reject")),
    ]

    def __init__(self, *args: Any, campaigns: list[Campaign], **kwargs: Any) -> None:
        about = [("", gettext("The plan as a whole"))]
        for c in campaigns:
            about.append((f"campaign:{c.pk}", gettext("Campaign “%(name)s”") % {"name": c.name}))
            about += [
                (
                    f"activity:{a.pk}",
                    gettext("— %(activity)s in “%(campaign)s”")
                    % {"activity": a.activity_type.name, "campaign": c.name},
                )
                for a in c.activities.all()
            ]
        super().__init__(*args, about=about, **kwargs)
        self.fields["decision"].choices = self.DECISIONS  # type: ignore[attr-defined]


class ProofDecisionForm(_Reasons):
    DECISIONS = [
        ("approve", gettext_lazy("Approve")),
        ("request_action", gettext_lazy("Request action")),
        ("reject", gettext_lazy("Reject")),
    ]
    amount = AmountField(label=gettext_lazy("Approved amount (empty: all)"), required=False)

    def __init__(self, *args: Any, documents: list[Document], partial: bool, **kwargs: Any) -> None:
        about = [("", gettext("The proof as a whole"))]
        about += [(f"document:{d.pk}", gettext("Document “%(name)s”") % {"name": d.original_name}) for d in documents]
        about += [(f"field:{name}", gettext("Field: %(field)s") % {"field": label}) for name, label in PROOF_FIELDS]
        super().__init__(*args, about=about, **kwargs)
        self.fields["decision"].choices = self.DECISIONS  # type: ignore[attr-defined]
        if not partial:
            del self.fields["amount"]


# --- proof of execution --------------------------------------------------------------------------------------


class NewProofForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=200, help_text=gettext_lazy("E.g. September syndication.")
    )


class ProofForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    execution_date = forms.DateField(label=gettext_lazy("Execution date"), widget=DATE_INPUT, required=False)
    amount = AmountText(label=gettext_lazy("Amount"), widget=MONEY_INPUT, required=False)
    estimated_impressions = forms.IntegerField(
        label=gettext_lazy("Estimated impressions (reach)"), min_value=0, required=False
    )
    pre_approval_id = forms.CharField(
        label=gettext_lazy("Pre-approval ID"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Of approved marketing material, if any."),
    )
    invoice_vendor = forms.CharField(label=gettext_lazy("Invoice vendor"), max_length=200, required=False)
    invoice_number = forms.CharField(label=gettext_lazy("Invoice number"), max_length=64, required=False)
    invoice_date = forms.DateField(label=gettext_lazy("Invoice date"), widget=DATE_INPUT, required=False)
    invoice_amount = AmountText(label=gettext_lazy("Invoice amount"), widget=MONEY_INPUT, required=False)
    invoice_currency = forms.CharField(
        label=gettext_lazy("Invoice currency"), max_length=3, required=False, help_text=gettext_lazy("E.g. USD.")
    )

    @classmethod
    def initial_of(cls, proof: Any) -> dict[str, Any]:
        return {name: getattr(proof, name) for name in cls.base_fields}

    def values(self) -> dict[str, Any]:
        """What the service gets: amounts as typed (it says what is wrong with them)."""
        return dict(self.cleaned_data)


UPLOAD_KINDS = [
    (DocumentKind.INVOICE.value, DocumentKind.INVOICE.label),
    ("proof", gettext_lazy("Proof document")),
    *((k, label) for k, label in DocumentKind.choices if k not in ("invoice", "certification_report")),
]


class UploadForm(forms.Form):
    files = MultipleFileField(label=gettext_lazy("Files"))  # type: ignore[assignment]  # a field, not Form.files
    kind = forms.ChoiceField(label=gettext_lazy("What they are"), choices=UPLOAD_KINDS)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("What the documents show (required but for the invoice)."),
    )


class CertificationForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Work done in-house"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(CERTIFICATION_ROWS):
            self.fields[f"person_{i}"] = forms.CharField(
                label=gettext("Person %(n)s") % {"n": i + 1}, required=False, max_length=100
            )
            self.fields[f"hours_{i}"] = forms.CharField(
                label=gettext("Hours of person %(n)s") % {"n": i + 1}, required=False, max_length=12
            )
            self.fields[f"rate_{i}"] = forms.CharField(
                label=gettext("Hourly rate of person %(n)s") % {"n": i + 1}, required=False, max_length=20
            )

    def rows(self) -> list[tuple[Any, Any, Any]]:
        return [(self[f"person_{i}"], self[f"hours_{i}"], self[f"rate_{i}"]) for i in range(CERTIFICATION_ROWS)]

    def lines(self) -> list[tuple[str, object, object]]:
        data = self.cleaned_data
        return [(data[f"person_{i}"], data[f"hours_{i}"], data[f"rate_{i}"]) for i in range(CERTIFICATION_ROWS)]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
