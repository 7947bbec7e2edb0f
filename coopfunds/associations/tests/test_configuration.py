"""Program configuration: the lists partners choose from, the deadlines, and earnings needing an association."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coopfunds.associations import configuration, services
from coopfunds.associations.configuration import association_defaults_load
from coopfunds.associations.models import AssociationOption, AssociationPolicy
from coopfunds.associations.tests.helpers import approved, draft, submitted
from coopfunds.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_preset_lists_load_once(world_a):
    counts = dict(
        (kind, AssociationOption.objects.filter(program=world_a.program, kind=kind).count())
        for kind in ("solution_area", "partner_role", "workload")
    )
    assert counts == {"solution_area": 6, "partner_role": 4, "workload": 10}
    audit = AuditEvent.objects.count()
    assert association_defaults_load(program=world_a.program, actor=world_a.program_manager) == []
    assert AuditEvent.objects.count() == audit
    with pytest.raises(PermissionDenied):
        association_defaults_load(program=world_a.program, actor=world_a.reviewer)


def test_adding_an_option(world_a):
    option = configuration.association_option_add(
        program=world_a.program,
        kind="workload",
        code=" Copilot ",
        label=" Microsoft 365 Copilot ",
        actor=world_a.program_manager,
    )
    assert (option.code, option.label, option.is_active) == ("copilot", "Microsoft 365 Copilot", True)
    assert AuditEvent.objects.filter(verb="association_option.add", target_id=str(option.pk)).count() == 1


@pytest.mark.parametrize(
    ("kind", "code", "label", "errors"),
    [
        ("fax", "copilot", "Copilot", {"kind": ["Choose solution area, partner role or workload."]}),
        (
            "workload",
            "Co pilot!",
            "",
            {
                "code": ["Use lowercase letters, digits and hyphens (at most 64), e.g. exchange-online."],
                "label": ["Give the option a name people understand."],
            },
        ),
        ("workload", "teams", "Teams again", {"code": ["Cloud Co-op already has the workload “teams”."]}),
    ],
)
def test_bad_options_are_refused_by_field(world_a, kind, code, label, errors):
    before = AssociationOption.objects.count()
    with pytest.raises(ValidationError) as error:
        configuration.association_option_add(
            program=world_a.program, kind=kind, code=code, label=label, actor=world_a.program_manager
        )
    assert error.value.message_dict == errors
    assert AssociationOption.objects.count() == before


def test_a_switched_off_option_cannot_be_chosen_but_stays_where_it_was(world_a):
    association = draft(world_a)
    teams = AssociationOption.objects.get(program=world_a.program, code="teams")
    configuration.association_option_update(option=teams, actor=world_a.program_manager, is_active=False)
    with pytest.raises(ValidationError) as error:
        draft(world_a, customer_domain="other.example")
    assert error.value.message_dict == {"workloads": ["teams: not a workload of Cloud Co-op."]}
    assert services.association_submit(association=association, actor=world_a.partner_admin).status == "submitted"


def test_only_the_program_manager_configures(world_a):
    teams = AssociationOption.objects.get(program=world_a.program, code="teams")
    for persona in ("partner_admin", "reviewer", "finance", "auditor"):
        with pytest.raises(PermissionDenied):
            configuration.association_option_update(option=teams, actor=world_a.persona(persona), label="x")
        with pytest.raises(PermissionDenied):
            configuration.association_policy_update(
                program=world_a.program, actor=world_a.persona(persona), consent_days=3
            )
    teams.refresh_from_db()
    assert teams.label == "Microsoft Teams"
    assert AssociationPolicy.objects.get(program=world_a.program).consent_days == 7


def test_the_deadlines_are_configuration(world_a):
    configuration.association_policy_update(
        program=world_a.program,
        actor=world_a.program_manager,
        partner_action_business_days=3,
        consent_days=10,
        dispute_days=14,
        earnings_require_association=True,
    )
    world_a.program.refresh_from_db()
    assert world_a.program.earnings_require_association is True
    assert set(
        AuditEvent.objects.filter(verb__in=["association_policy.update", "program.update"]).values_list(
            "verb", flat=True
        )
    ) == {
        "association_policy.update",
        "program.update",
    }
    asked = services.association_request_action(association=submitted(world_a), actor=world_a.reviewer, message="?")
    assert asked.action_due_on == date(2026, 11, 25)
    assert approved(world_a, customer_domain="other.example", workloads=["defender"]).consent_closes_on == date(
        2026, 11, 30
    )


def test_bad_deadlines_come_back_by_field(world_a):
    with pytest.raises(ValidationError) as error:
        configuration.association_policy_update(
            program=world_a.program,
            actor=world_a.program_manager,
            partner_action_business_days=0,
            consent_days=61,
            dispute_days="30",
            colour="red",
        )
    assert error.value.message_dict == {"colour": ["This setting does not exist."]}
    with pytest.raises(ValidationError) as error:
        configuration.association_policy_update(
            program=world_a.program,
            actor=world_a.program_manager,
            partner_action_business_days=0,
            consent_days=61,
            dispute_days="30",
        )
    assert error.value.message_dict == {
        "partner_action_business_days": ["Give a whole number of business days from 1 to 60."],
        "consent_days": ["Give a whole number of days from 1 to 60."],
        "dispute_days": ["Give a whole number of days from 1 to 365."],
    }
