"""Plans through their services: making one, the builder, submission, review, changes and amendments."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import PERSONAS
from coopfunds.accounts.models import Role
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict
from coopfunds.notifications.models import Notification
from coopfunds.plans import checks, selectors, services
from coopfunds.plans.models import Campaign, Plan, PlanActivity, PlanEvent, PlanReason, PlanVersion
from coopfunds.plans.services import Reason
from coopfunds.plans.tests.conftest import TODAY
from coopfunds.plans.tests.helpers import DETAILS, approved_plan, draft_plan, state, submitted_plan
from coopfunds.plans.versions import version_changes
from coopfunds.testing.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def errors_of(call) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def test_a_plan_starts_in_editing_with_its_first_version(plans_world):
    plan = draft_plan(plans_world)
    assert (plan.status, plan.fiscal_year, plan.fund_type, plan.currency, plan.reviewer_id) == (
        "editing",
        2027,
        "coop",
        "USD",
        plans_world.reviewer.pk,
    )
    assert list(PlanVersion.objects.filter(plan=plan).values_list("number", flat=True)) == [1]
    assert plan.current.number == 1
    assert plan.in_force is None
    assert list(PlanEvent.objects.filter(plan=plan).values_list("message", flat=True)) == [
        "Plan started for FY27.",
        "Added the campaign “Autumn launch”.",
        "Added “Syndicated content” (5,000.00 USD) to “Autumn launch”.",
    ]
    assert list(AuditEvent.objects.filter(verb__startswith="plan.").order_by("id").values_list("verb", flat=True)) == [
        "plan.create",
        "plan.campaign_add",
        "plan.activity_add",
    ]


def test_an_empty_name_gets_a_default(plans_world):
    plan = services.plan_create(
        location=plans_world.location, program=plans_world.program, fiscal_year=2027, actor=plans_world.partner_admin
    )
    assert plan.name == "Fabrikam Berlin FY27 co-op plan"


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_locations_incentives_admins_make_its_plans(plans_world, persona):
    user = plans_world.persona(persona)
    before = state()
    if persona == "partner_admin":
        services.plan_create(location=plans_world.location, program=plans_world.program, fiscal_year=2027, actor=user)
        assert Plan.objects.count() == 1
        return
    if user is None:
        return
    with pytest.raises(PermissionDenied, match=re.escape("Only the location's incentives admins can make its plans.")):
        services.plan_create(location=plans_world.location, program=plans_world.program, fiscal_year=2027, actor=user)
    assert state() == before


def test_bad_plan_input_is_refused_field_by_field(plans_world):
    world = plans_world
    other = UserFactory(email="vic.vendor@contoso.example", organisation=world.vendor)
    RoleFactory(user=other, role=Role.FINANCE)
    make = lambda **kw: services.plan_create(  # noqa: E731
        location=world.location, program=world.program, actor=world.partner_admin, **kw
    )
    assert errors_of(lambda: make(fiscal_year=2026)) == {"fiscal_year": ["Plans can be made for FY27 or FY28."]}
    assert errors_of(lambda: make(fiscal_year=2028)) == {
        "fiscal_year": ["Cloud Co-op has no activity catalogue for FY28 yet."]
    }
    assert errors_of(lambda: make(fiscal_year=2027, reviewer=other, fund_type="mdf", name="x" * 201)) == {
        "reviewer": ["Choose a reviewer of Cloud Co-op."],
        "fund_type": ["Choose a fund type: Co-op."],
        "name": ["Keep the name to 200 characters or fewer."],
    }
    make(fiscal_year=2027)
    assert errors_of(lambda: make(fiscal_year=2027)) == {
        "fiscal_year": ["Fabrikam Berlin already has a co-op plan for FY27 in Cloud Co-op."]
    }
    assert Plan.objects.count() == 1


def test_a_location_not_enrolled_cannot_plan(plans_world):
    world = plans_world
    world.second_location.enrollments.all().delete()
    with pytest.raises(ValidationError) as error:
        services.plan_create(
            location=world.second_location, program=world.program, fiscal_year=2027, actor=world.partner_admin
        )
    assert error.value.message_dict == {"program": ["Fabrikam Paris is not enrolled in Cloud Co-op."]}


def test_bad_campaign_and_activity_input_gets_field_errors(plans_world):
    world = plans_world
    plan = draft_plan(world)
    campaign = Campaign.objects.get(version=plan.current)
    add = lambda **kw: services.campaign_add(plan=plan, actor=world.partner_admin, **kw)  # noqa: E731
    assert errors_of(lambda: add(name=" ", start=None, end=date(2026, 9, 1), budget="12,50")) == {
        "name": ["Give the campaign a name."],
        "start": ["Give the date the campaign starts."],
        "budget": ["Give the budget: an amount above zero with at most two decimals."],
    }
    assert errors_of(lambda: add(name="Late", start=date(2027, 6, 1), end=date(2027, 7, 31), budget="-5")) == {
        "end": ["The campaign must run within the program year FY27 (01 Jul 2026 – 30 Jun 2027)."],
        "budget": ["Give the budget: an amount above zero with at most two decimals."],
    }
    assert errors_of(lambda: add(name="Back", start=date(2026, 9, 2), end=date(2026, 9, 1), budget="1")) == {
        "end": ["The campaign ends before it starts."]
    }
    catalogue_2026 = world.activity("demo-units")
    catalogue_2026.pk, catalogue_2026.fiscal_year = None, 2026
    catalogue_2026.save()
    act = lambda **kw: services.activity_add(campaign=campaign, actor=world.partner_admin, **kw)  # noqa: E731
    assert errors_of(lambda: act(activity_type=catalogue_2026, countries=["XX", "de"], planned_amount="0")) == {
        "activity_type": ["Choose an activity of Cloud Co-op's FY27 catalogue."],
        "countries": ["Use two-letter country codes (DE, FR, US); not known: “XX”."],
        "planned_amount": ["Give the planned amount: above zero with at most two decimals."],
    }
    assert errors_of(lambda: act(activity_type=None, countries=[], planned_amount="1.234", expected_reach=-1)) == {
        "activity_type": ["Choose the activity from the program's catalogue."],
        "countries": ["Name at least one country the activity runs in."],
        "planned_amount": ["Give the planned amount: above zero with at most two decimals."],
        "expected_reach": ["Give the expected reach as a whole number of people (or leave it empty)."],
    }
    assert (Campaign.objects.count(), PlanActivity.objects.count()) == (1, 1)


def test_the_builder_adds_changes_and_removes_in_the_current_version(plans_world):
    world = plans_world
    plan = draft_plan(world)
    campaign = Campaign.objects.get(version=plan.current)
    services.campaign_update(campaign=campaign, actor=world.partner_admin, budget="9000.00", name="Autumn push")
    activity = services.activity_add(
        campaign=campaign,
        actor=world.partner_admin,
        activity_type=world.activity("digital-advertising"),
        countries="de, fr",
        planned_amount="2500.00",
    )
    assert activity.countries == ["DE", "FR"]
    services.activity_update(activity=activity, actor=world.partner_admin, planned_amount="3000.00")
    assert selectors.version_total(plan.current) == D("8000.00")
    services.activity_remove(activity=activity, actor=world.partner_admin)
    second = services.campaign_add(
        plan=plan,
        actor=world.partner_admin,
        name="Winter",
        start=date(2027, 1, 10),
        end=date(2027, 2, 10),
        budget="100",
    )
    services.campaign_remove(campaign=second, actor=world.partner_admin)
    assert list(Campaign.objects.values_list("name", "budget")) == [("Autumn push", D("9000.00"))]
    assert selectors.version_total(plan.current) == D("5000.00")


def test_the_checker_and_totals_of_a_draft(plans_world):
    world = plans_world
    plan = services.plan_create(
        location=world.location, program=world.program, fiscal_year=2027, actor=world.partner_admin
    )
    found = checks.plan_findings(plan, plan.current, TODAY)
    assert [(f.code, f.message, f.field, f.blocking) for f in found] == [
        ("reviewer", "Name the vendor reviewer who will review the plan.", "reviewer", True),
        ("no_campaigns", "Add at least one campaign with its activities.", "campaigns", True),
    ]
    services.plan_update(plan=plan, actor=world.partner_admin, reviewer=world.reviewer)
    campaign = services.campaign_add(
        plan=plan,
        actor=world.partner_admin,
        name="Big push",
        start=date(2026, 9, 1),
        end=date(2026, 9, 30),
        budget="1000",
    )
    found = checks.plan_findings(Plan.objects.get(pk=plan.pk), plan.current, TODAY)
    assert [(f.code, f.message) for f in found] == [("empty_campaign", "Add at least one activity to “Big push”.")]
    for code, amount in (("syndicated-content", "19000.00"), ("onsite-champ", "7000.00")):
        services.activity_add(
            campaign=campaign,
            actor=world.partner_admin,
            activity_type=world.activity(code),
            countries=["DE"],
            planned_amount=amount,
        )
    plan = Plan.objects.get(pk=plan.pk)
    totals = checks.plan_totals(plan, plan.current)
    assert [(p.label, p.planned, p.earned, p.remaining, p.closed) for p in totals.periods] == [
        ("FY27 H1", D("26000.00"), D("12000.00"), D("12000.00"), True),
        ("FY27 H2", D("0"), D("0"), D("0"), False),
    ]
    assert [(t.period, t.name, t.planned, t.limit, t.firm) for t in totals.types] == [
        ("FY27 H1", "On-site champ", D("7000.00"), D("6000.00"), True),
        ("FY27 H1", "Syndicated content", D("19000.00"), D("18750.00"), True),
    ]
    found = checks.plan_findings(plan, plan.current, TODAY)
    assert [(f.code, f.message, f.blocking) for f in found] == [
        ("over_budget", "The activities of “Big push” plan 26,000.00 USD, more than its budget of 1,000.00 USD.", True),
        (
            "over_cap",
            "On-site champ is capped at 6,000.00 USD for FY27 H1 (50% of earned co-op per period); the plan has "
            "7,000.00 USD.",
            True,
        ),
        (
            "over_cap",
            "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); the plan has "
            "19,000.00 USD.",
            True,
        ),
        (
            "over_funds",
            "Campaigns starting in FY27 H1 plan 26,000.00 USD; the co-op for that period is 12,000.00 USD so far. "
            "Proof is paid only from co-op earned.",
            False,
        ),
    ]


def test_submit_refuses_with_the_checkers_findings(plans_world):
    world = plans_world
    plan = services.plan_create(
        location=world.location, program=world.program, fiscal_year=2027, actor=world.partner_admin
    )
    before = state()
    with pytest.raises(ValidationError) as error:
        services.plan_submit(plan=plan, actor=world.partner_admin)
    assert error.value.message_dict == {
        "reviewer": ["Name the vendor reviewer who will review the plan."],
        "campaigns": ["Add at least one campaign with its activities."],
    }
    assert state() == before


def test_submission_freezes_the_version_and_tells_the_named_reviewer(plans_world):
    world = plans_world
    plan = submitted_plan(world)
    assert (plan.status, plan.submissions, plan.due_on) == ("submitted", 1, date(2026, 11, 24))
    version = PlanVersion.objects.get(plan=plan)
    assert (version.total, version.submitted_by_id, version.outcome) == (D("5000.00"), world.partner_admin.pk, "")
    assert list(Notification.objects.values_list("user__email", "subject")) == [
        ("rita.reviewer@contoso.example", f"Plan {plan.pk} to review: FY27 launch plan")
    ]
    assert AuditEvent.objects.filter(verb="plan.submitted", target_id=str(plan.pk)).count() == 1
    campaign = Campaign.objects.get(version=plan.current)
    with pytest.raises(Conflict, match=re.escape("A plan that is submitted cannot be changed.")):
        services.campaign_update(campaign=campaign, actor=world.partner_admin, name="Sneaky")
    with pytest.raises(Conflict, match=re.escape("A plan that is submitted cannot be submitted.")):
        services.plan_submit(plan=plan, actor=world.partner_admin)
    assert Campaign.objects.get(pk=campaign.pk).name == "Autumn launch"


def test_approval_puts_the_version_in_force_and_sets_the_limit(plans_world):
    world = plans_world
    plan = approved_plan(world)
    plan.refresh_from_db()
    assert (plan.status, plan.in_force_id, plan.approved_amount) == ("approved", plan.current_id, D("5000.00"))
    assert PlanVersion.objects.get(plan=plan).outcome == "approved"
    assert list(PlanEvent.objects.filter(plan=plan, kind="status").values_list("new_status", flat=True)) == [
        "submitted",
        "under_review",
        "approved",
    ]
    assert (
        Notification.objects.filter(
            user=world.partner_admin, subject=f"Plan {plan.pk} approved: FY27 launch plan"
        ).count()
        == 1
    )


def test_only_the_named_reviewer_decides_and_others_take_it_by_assigning(plans_world):
    world = plans_world
    second = UserFactory(email="sam.second@contoso.example", organisation=world.vendor)
    RoleFactory(user=second, role=Role.REVIEWER)
    plan = submitted_plan(world)
    before = state()
    with pytest.raises(PermissionDenied, match="Only the plan's named reviewer can decide it"):
        services.plan_approve(plan=plan, actor=second)
    assert state() == before
    plan = services.plan_assign(plan=plan, reviewer=second, actor=second)
    assert (plan.status, plan.reviewer_id) == ("under_review", second.pk)
    plan = services.plan_approve(plan=plan, actor=second)
    assert plan.status == "approved"


def test_changes_requested_then_reopened_resubmitted_and_compared(plans_world):
    world = plans_world
    plan = submitted_plan(world)
    activity = PlanActivity.objects.get(version=plan.current)
    plan = services.plan_request_changes(
        plan=plan,
        actor=world.reviewer,
        reasons=[Reason(code="plan_budget", note="Too much for syndication.", activity_id=activity.pk)],
        message="Please lower the syndication budget.",
    )
    assert (plan.status, PlanVersion.objects.get(pk=plan.current_id).outcome) == ("action_required", "action_required")
    reason = PlanReason.objects.get()
    assert (reason.code.code, reason.note, reason.activity_id) == (
        "plan_budget",
        "Too much for syndication.",
        activity.pk,
    )
    with pytest.raises(Conflict, match="the reviewer asked for changes; reopen it first"):
        services.activity_update(activity=activity, actor=world.partner_admin, planned_amount="4000.00")
    plan = services.plan_reopen(plan=plan, actor=world.partner_admin)
    assert (plan.status, plan.current.number) == ("editing", 2)
    copy = PlanActivity.objects.get(version=plan.current)
    assert (copy.key, copy.planned_amount) == (activity.key, D("5000.00"))
    services.activity_update(activity=copy, actor=world.partner_admin, planned_amount="4000.00", countries=["DE", "AT"])
    winter = services.campaign_add(
        plan=plan,
        actor=world.partner_admin,
        name="Winter",
        start=date(2027, 1, 10),
        end=date(2027, 2, 10),
        budget="100",
    )
    services.activity_add(
        campaign=winter,
        actor=world.partner_admin,
        activity_type=world.activity("digital-advertising"),
        countries=["DE"],
        planned_amount="100.00",
    )
    plan = services.plan_submit(plan=plan, actor=world.partner_admin)
    assert plan.submissions == 2
    seen = selectors.last_reviewed_version(plan)
    assert seen is not None
    assert seen.number == 1
    assert [str(c) for c in version_changes(seen, plan.current)] == [
        "Campaign “Winter” added.",
        "Activity “Syndicated content” in “Autumn launch” changed: Countries Germany → Germany, Austria; "
        "Planned amount 5000.00 → 4000.00.",
        "Activity “Digital advertising” in “Winter” added.",
    ]
    plan = services.plan_approve(plan=plan, actor=world.reviewer)
    assert plan.approved_amount == D("4100.00")


def test_reasons_are_required_and_must_point_inside_the_version(plans_world):
    world = plans_world
    plan = submitted_plan(world)
    before = state()
    assert errors_of(lambda: services.plan_reject(plan=plan, actor=world.reviewer, reasons=[])) == {
        "reasons": ["Give at least one reason, so the partner knows why."]
    }
    assert errors_of(
        lambda: services.plan_request_changes(plan=plan, actor=world.reviewer, reasons=[Reason(code="nope")])
    ) == {"reasons": ["“nope” is not a reason of this program's catalogue."]}
    assert errors_of(
        lambda: services.plan_request_changes(
            plan=plan, actor=world.reviewer, reasons=[Reason(code="other", campaign_id=999999)]
        )
    ) == {"reasons": ["A reason can only point at a campaign of the version reviewed."]}
    assert state() == before


def test_a_rejected_plan_is_final(plans_world):
    world = plans_world
    plan = services.plan_reject(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS, message="No.")
    assert plan.status == "rejected"
    with pytest.raises(Conflict, match=re.escape("Only an approved plan can be amended.")):
        services.plan_amend(plan=plan, actor=world.partner_admin)
    with pytest.raises(Conflict, match=re.escape("Only a plan the reviewer asked to change can be reopened.")):
        services.plan_reopen(plan=plan, actor=world.partner_admin)


def test_an_amendment_leaves_the_approved_version_in_force_until_approved(plans_world):
    world = plans_world
    plan = approved_plan(world)
    first = plan.in_force
    plan = services.plan_amend(plan=plan, actor=world.partner_admin)
    assert (plan.status, plan.current.number, plan.in_force_id, plan.approved_amount) == (
        "editing",
        2,
        first.pk,
        D("5000.00"),
    )
    services.activity_update(
        activity=PlanActivity.objects.get(version=plan.current), actor=world.partner_admin, planned_amount="7000.00"
    )
    plan = services.plan_submit(plan=plan, actor=world.partner_admin)
    plan = services.plan_reject(plan=plan, actor=world.reviewer, reasons=DETAILS)
    plan.refresh_from_db()
    assert (plan.status, plan.in_force_id, plan.approved_amount) == ("rejected", first.pk, D("5000.00"))
    plan = services.plan_amend(plan=plan, actor=world.partner_admin)
    assert plan.current.number == 3
    assert PlanActivity.objects.get(version=plan.current).planned_amount == D("5000.00")  # a copy of the one in force
    services.activity_update(
        activity=PlanActivity.objects.get(version=plan.current), actor=world.partner_admin, planned_amount="6000.00"
    )
    plan = services.plan_approve(plan=services.plan_submit(plan=plan, actor=world.partner_admin), actor=world.reviewer)
    plan.refresh_from_db()
    assert (plan.status, plan.in_force.number, plan.approved_amount) == ("approved", 3, D("6000.00"))


# --- deadlines, each at its edges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2027, 6, 29), True), (date(2027, 6, 30), True), (date(2027, 7, 1), False)]
)
def test_first_submission_by_the_end_of_the_program_year(plans_world, time_machine, day, allowed):
    world = plans_world
    plan = draft_plan(world)
    time_machine.move_to(day)
    if allowed:
        assert services.plan_submit(plan=plan, actor=world.partner_admin).status == "submitted"
        return
    before = state()
    with pytest.raises(Conflict, match=re.escape("Plans for FY27 had to be first submitted by 30 Jun 2027.")):
        services.plan_submit(plan=plan, actor=world.partner_admin)
    with pytest.raises(Conflict, match=re.escape("Plans for FY27 had to be first submitted by 30 Jun 2027.")):
        services.campaign_update(campaign=Campaign.objects.get(), actor=world.partner_admin, name="Later")
    assert state() == before


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2027, 9, 27), True), (date(2027, 9, 28), True), (date(2027, 9, 29), False)]
)
def test_changes_and_resubmission_for_90_more_days(plans_world, time_machine, day, allowed):
    world = plans_world
    plan = services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)
    time_machine.move_to(day)
    if allowed:
        plan = services.plan_reopen(plan=plan, actor=world.partner_admin)
        assert services.plan_submit(plan=plan, actor=world.partner_admin).status == "submitted"
        return
    before = state()
    with pytest.raises(Conflict, match=re.escape("Plans for FY27 could be changed and resubmitted until 28 Sep 2027.")):
        services.plan_reopen(plan=plan, actor=world.partner_admin)
    assert state() == before


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2027, 9, 27), True), (date(2027, 9, 28), True), (date(2027, 9, 29), False)]
)
def test_amendments_within_the_same_window(plans_world, time_machine, day, allowed):
    world = plans_world
    plan = approved_plan(world)
    time_machine.move_to(day)
    if allowed:
        assert services.plan_amend(plan=plan, actor=world.partner_admin).status == "editing"
        return
    with pytest.raises(Conflict, match=re.escape("could be changed and resubmitted until 28 Sep 2027.")):
        services.plan_amend(plan=plan, actor=world.partner_admin)


def test_the_windows_follow_the_programs_plan_rules(plans_world, time_machine):
    world = plans_world
    services.plan_settings_update(program=world.program, actor=world.program_manager, resubmit_days=10)
    plan = services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)
    time_machine.move_to(date(2027, 7, 11))
    with pytest.raises(Conflict, match=re.escape("until 10 Jul 2027.")):
        services.plan_reopen(plan=plan, actor=world.partner_admin)


# --- who may do what: every transition for every persona --------------------------------------------------

PLAN_ACTIONS = {
    # name: (who may, how to call it with a ready plan)
    "update": ({"partner_admin"}, "draft", lambda w, p, u: services.plan_update(plan=p, actor=u, name="Renamed")),
    "campaign_add": (
        {"partner_admin"},
        "draft",
        lambda w, p, u: services.campaign_add(
            plan=p, actor=u, name="More", start=date(2026, 12, 1), end=date(2026, 12, 20), budget="10"
        ),
    ),
    "submit": ({"partner_admin"}, "draft", lambda w, p, u: services.plan_submit(plan=p, actor=u)),
    "assign": ({"reviewer"}, "submitted", lambda w, p, u: services.plan_assign(plan=p, reviewer=w.reviewer, actor=u)),
    "approve": ({"reviewer"}, "submitted", lambda w, p, u: services.plan_approve(plan=p, actor=u)),
    "request_changes": (
        {"reviewer"},
        "submitted",
        lambda w, p, u: services.plan_request_changes(plan=p, actor=u, reasons=DETAILS),
    ),
    "reject": ({"reviewer"}, "submitted", lambda w, p, u: services.plan_reject(plan=p, actor=u, reasons=DETAILS)),
    "amend": ({"partner_admin"}, "approved", lambda w, p, u: services.plan_amend(plan=p, actor=u)),
    "comment": (
        {"partner_admin", "partner_user", "reviewer"},
        "draft",
        lambda w, p, u: services.plan_comment(plan=p, actor=u, message="Looks fine."),
    ),
}
MAKERS = {"draft": draft_plan, "submitted": submitted_plan, "approved": approved_plan}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
@pytest.mark.parametrize("action", PLAN_ACTIONS)
def test_every_plan_action_for_every_persona(plans_world, persona, action):
    allowed, start, call = PLAN_ACTIONS[action]
    plan = MAKERS[start](plans_world)
    user = plans_world.persona(persona)
    if persona in allowed:
        call(plans_world, plan, user)
        return
    before = state()
    with pytest.raises(PermissionDenied):
        call(plans_world, plan, user)
    assert state() == before


def test_internal_notes_are_for_vendor_staff(plans_world):
    world = plans_world
    plan = draft_plan(world)
    services.plan_comment(plan=plan, actor=world.auditor, message="Watch the budget.", internal=True)
    with pytest.raises(PermissionDenied, match=re.escape("Only vendor staff write internal notes.")):
        services.plan_comment(plan=plan, actor=world.partner_admin, message="x", internal=True)
    assert [e.message for e in selectors.plan_timeline(world.partner_admin, plan) if e.kind == "note"] == []
    assert [e.message for e in selectors.plan_timeline(world.reviewer, plan) if e.kind == "note"] == [
        "Watch the budget."
    ]


# --- the program's plan rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_only_program_managers_set_plan_rules(plans_world, persona):
    user = plans_world.persona(persona)
    before = state()
    if persona == "program_manager":
        rules = services.plan_settings_update(program=plans_world.program, actor=user, excess="carry")
        assert (rules.excess, rules.resubmit_days) == ("carry", 90)
        assert AuditEvent.objects.filter(verb="plan_settings.update").count() == 1
        return
    with pytest.raises(PermissionDenied):
        services.plan_settings_update(program=plans_world.program, actor=user, excess="carry")
    assert state() == before
    assert selectors.plan_settings_of(plans_world.program).excess == "drop"


def test_bad_plan_rules_are_refused(plans_world):
    update = lambda **kw: services.plan_settings_update(  # noqa: E731
        program=plans_world.program, actor=plans_world.program_manager, **kw
    )
    assert errors_of(lambda: update(resubmit_days=-5, proof_due_days=0, excess="keep")) == {
        "resubmit_days": ["Give the days plans may be resubmitted after the program year, from 0 to 365."],
        "proof_due_days": ["Give the days proof is due after a campaign starts, from 1 to 730."],
        "excess": ["Choose what happens to approved proof above the limit: carry or drop."],
    }
    assert errors_of(lambda: update(proof_warning_days=180)) == {
        "proof_warning_days": ["Warn fewer days before the due date than the 180 days proof is due in."]
    }
    assert errors_of(lambda: update(color="red")) == {"color": ["This field cannot be changed here."]}
