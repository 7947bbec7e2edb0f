"""Helpers shared by the web views: turning domain errors into form errors and 404s, the fields every form
uses the same way."""

from collections.abc import Callable
from decimal import Decimal
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from coopfunds.core.errors import Conflict, NotFound
from coopfunds.core.money import parse_typed_amount, typed_figures

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


def not_found_as_404[R: HttpResponseBase](view: Callable[..., R]) -> Callable[..., R]:
    """Selectors raise NotFound for rows the user may not see; the page answers 404 like for a missing row."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> R:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404("Not found") from None

    return wrapped


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: under its field when the form has one, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for e in errors:
                form.add_error(target, e.messages)
    else:
        form.add_error(None, error.messages)


def act(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict[str, Any]], "str | StrPromise"],
    *,
    done_at: str,
    page: Callable[[forms.Form], HttpResponse],
) -> HttpResponse:
    """A form's POST that runs a service: with a valid form, the service's message and a redirect to `done_at`,
    or its refusal for the item's state or a deadline (Conflict) as a message and the same redirect; otherwise
    the page again with the form and its errors (`page(form)`, which answers 400)."""
    if form.is_valid():
        try:
            done = action(form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(done_at)
        else:
            messages.success(request, done)
            return redirect(done_at)
    return page(form)


class CappedPaginator(Paginator):
    """For lists that grow into the millions (the review queue): counts at most `cap` rows, which a LIMITed
    count answers from the index, so the page count stops there and the pager says “1,000+”."""

    cap = 1000

    @cached_property
    def count(self) -> int:
        head = self.object_list[: self.cap + 1]
        return len(head) if isinstance(head, list) else head.count()  # type: ignore[attr-defined]  # a queryset

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field: a list of uploads (empty when none was chosen; the service says so)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class AmountField(forms.CharField):
    """An amount typed by a person, in their language (`core.money.parse_typed_amount`): "1500.50" in English,
    "1 500,50" (or "1500.50") in Swedish. Shown again in the same language."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "24"}))
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_typed_amount(text)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None


class AmountText(forms.CharField):
    """An amount typed in the reader's language, handed on as the machine's text ("1 234,50" in Swedish becomes
    "1234.50", `core.money.typed_figures`) to a service that says itself what is wrong with an amount."""

    def to_python(self, value: Any) -> str:
        return typed_figures(super().to_python(value) or "")
