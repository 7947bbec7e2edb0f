"""Services: what each write does, and the words it uses to refuse bad input. A refusal writes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coopfunds.accounts import services
from coopfunds.accounts.models import ApiToken, Location, Organisation, Role, RoleAssignment, User
from coopfunds.accounts.tests.helpers import make_user
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict

GENERIC_SCOPE = "You can only give roles you hold yourself, within your own locations and programs."


def counts() -> tuple[int, int, int, int, int, int]:
    return (
        Organisation.objects.count(),
        Location.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        ApiToken.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(call, error_type=ValidationError):  # type: ignore[no-untyped-def]
    """Run `call`, expect `error_type`, and check that nothing was written. Returns the error."""
    before = counts()
    with pytest.raises(error_type) as caught:
        call()
    assert counts() == before
    return caught.value


# ---------------------------------------------------------------------------------------------- organisations


@pytest.mark.django_db
def test_program_manager_registers_a_partner_with_an_audit_row(world):
    org = services.organisation_create(name="  Tailspin Toys ", actor=world.program_manager)
    assert (org.name, org.kind) == ("Tailspin Toys", Organisation.Kind.PARTNER)
    event = AuditEvent.objects.get(verb="organisation.create")
    assert (event.actor, event.target_id, event.changes, event.organisation_id) == (
        world.program_manager,
        str(org.pk),
        {"name": [None, "Tailspin Toys"]},
        org.pk,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["partner_admin", "partner_user", "other_admin", "reviewer", "finance", "auditor"])
def test_only_program_managers_register_partners(world, persona):
    error = refused(
        lambda: services.organisation_create(name="Tailspin", actor=world.persona(persona)), PermissionDenied
    )
    assert str(error) == "Only a program manager can register partner organisations."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Give the organisation a name."), ("x" * 201, "Keep the name to 200 characters or fewer.")],
)
def test_organisation_name_is_checked(world, name, message):
    error = refused(lambda: services.organisation_create(name=name, actor=world.program_manager))
    assert error.message_dict == {"name": [message]}


# ---------------------------------------------------------------------------------------------- locations


@pytest.mark.django_db
def test_program_manager_adds_a_location(world):
    location = services.location_create(
        organisation=world.partner,
        partner_id=" FAB-003 ",
        name="Fabrikam Rome",
        country="it",
        actor=world.program_manager,
    )
    assert (location.partner_id, location.name, str(location.country), location.organisation) == (
        "FAB-003",
        "Fabrikam Rome",
        "IT",
        world.partner,
    )
    event = AuditEvent.objects.get(verb="location.create")
    assert event.changes == {"partner_id": [None, "FAB-003"], "name": [None, "Fabrikam Rome"], "country": [None, "IT"]}
    assert event.organisation_id == world.partner.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("partner_id", "name", "country", "errors"),
    [
        ("FAB-001", "Dup", "DE", {"partner_id": ["Partner ID FAB-001 is already used by another location."]}),
        ("fab-001", "Dup", "DE", {"partner_id": ["Partner ID fab-001 is already used by another location."]}),
        ("NEW-1", "Somewhere", "XX", {"country": ["“XX” is not a country code (ISO 3166, for example DE, US, IN)."]}),
        ("NEW-1", "Somewhere", "", {"country": ["Choose the location's country."]}),
        ("", "", "DE", {"partner_id": ["Enter the location's partner ID."], "name": ["Give the location a name."]}),
        (
            "NEW 1",
            "Somewhere",
            "DE",
            {"partner_id": ["A partner ID has only letters A–Z, digits and single hyphens between them."]},
        ),
        (
            "Ü-1",
            "Somewhere",
            "DE",
            {"partner_id": ["A partner ID has only letters A–Z, digits and single hyphens between them."]},
        ),
        ("A" * 33, "Somewhere", "DE", {"partner_id": ["A partner ID has at most 32 characters."]}),
        ("NEW-1", "x" * 201, "DE", {"name": ["Keep the name to 200 characters or fewer."]}),
    ],
)
def test_bad_location_input_is_refused_in_words(world, partner_id, name, country, errors):
    error = refused(
        lambda: services.location_create(
            organisation=world.partner, partner_id=partner_id, name=name, country=country, actor=world.program_manager
        )
    )
    assert error.message_dict == errors


@pytest.mark.django_db
def test_locations_belong_to_partners_only(world):
    error = refused(
        lambda: services.location_create(
            organisation=world.vendor, partner_id="V-1", name="HQ", country="US", actor=world.program_manager
        )
    )
    assert error.message_dict == {"organisation": ["Locations belong to partner organisations."]}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["partner_admin", "partner_user", "other_admin", "reviewer", "finance", "auditor"])
def test_only_program_managers_add_locations(world, persona):
    error = refused(
        lambda: services.location_create(
            organisation=world.partner, partner_id="NEW-1", name="New", country="DE", actor=world.persona(persona)
        ),
        PermissionDenied,
    )
    assert str(error) == "Only a program manager can add locations."


# ---------------------------------------------------------------------------------------------- invitations


@pytest.mark.django_db
def test_partner_admin_invites_a_colleague_who_gets_a_set_password_link(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_invite(
            email=" New.Person@Fabrikam.example ",
            full_name="New Person",
            organisation=world.partner,
            role=Role.INCENTIVES_USER,
            location=world.second_location,
            actor=world.partner_admin,
        )
    assert (user.email, user.full_name, user.organisation, user.has_usable_password()) == (
        "new.person@fabrikam.example",
        "New Person",
        world.partner,
        False,
    )
    grant = RoleAssignment.objects.get(user=user)
    assert (grant.role, grant.location, grant.program, grant.granted_by) == (
        Role.INCENTIVES_USER,
        world.second_location,
        None,
        world.partner_admin,
    )
    assert list(AuditEvent.objects.filter(target_id=str(user.pk)).order_by("id").values_list("verb", flat=True)) == [
        "user.invite",
        "role.grant",
    ]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.person@fabrikam.example"]
    assert mailoutbox[0].subject == "You are invited to Coopfunds"
    assert "http://127.0.0.1:8000/password-reset/" in mailoutbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "“not-an-email” is not a valid email address."),
        ("", "Enter the person's email address."),
        ("ADA.ADMIN@fabrikam.example", "ada.admin@fabrikam.example already has an account."),
        ("olga.admin@northwind.example", "olga.admin@northwind.example already has an account."),
    ],
)
def test_bad_or_taken_emails_are_refused(world, mailoutbox, email, message):
    error = refused(
        lambda: services.user_invite(
            email=email,
            full_name="",
            organisation=world.partner,
            role=Role.INCENTIVES_USER,
            location=world.location,
            actor=world.partner_admin,
        )
    )
    assert error.message_dict == {"email": [message]}
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "location", "errors"),
    [
        ("incentives_user", "other_location", {"location": ["Choose a location of the person's own organisation."]}),
        ("incentives_user", None, {"location": ["Choose the location this role is for."]}),
        ("reviewer", None, {"role": ["Vendor roles are only for the vendor's own staff."]}),
        ("program_manager", None, {"role": ["Vendor roles are only for the vendor's own staff."]}),
        ("reviewer", "location", {"location": ["Vendor roles are not tied to a location; leave the location empty."]}),
    ],
)
def test_partner_admin_cannot_invite_beyond_their_scope(world, mailoutbox, role, location, errors):
    error = refused(
        lambda: services.user_invite(
            email="new@fabrikam.example",
            full_name="",
            organisation=world.partner,
            role=Role(role),
            location=getattr(world, location) if location else None,
            actor=world.partner_admin,
        )
    )
    assert error.message_dict == errors
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "organisation"),
    [
        ("partner_user", "partner"),
        ("other_admin", "partner"),
        ("reviewer", "partner"),
        ("finance", "vendor"),
        ("auditor", "vendor"),
        ("partner_admin", "vendor"),
    ],
)
def test_people_who_do_not_manage_an_organisation_cannot_invite_to_it(world, persona, organisation):
    error = refused(
        lambda: services.user_invite(
            email="new@example.com",
            full_name="",
            organisation=getattr(world, organisation),
            role=Role.INCENTIVES_USER,
            location=world.location,
            actor=world.persona(persona),
        ),
        PermissionDenied,
    )
    assert str(error) == "You cannot invite people to this organisation."


@pytest.mark.django_db
def test_program_manager_onboards_the_first_incentives_admin_of_a_location(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_invite(
            email="first@northwind.example",
            full_name="",
            organisation=world.other_partner,
            role=Role.INCENTIVES_ADMIN,
            location=world.other_location,
            actor=world.program_manager,
        )
    assert [(g.role, g.location_id) for g in user.role_assignments.all()] == [
        (Role.INCENTIVES_ADMIN, world.other_location.pk)
    ]
    assert AuditEvent.objects.get(verb="user.invite").organisation_id == world.other_partner.pk
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_program_manager_cannot_give_partners_an_incentives_user_role(world):
    error = refused(
        lambda: services.user_invite(
            email="first@northwind.example",
            full_name="",
            organisation=world.other_partner,
            role=Role.INCENTIVES_USER,
            location=world.other_location,
            actor=world.program_manager,
        )
    )
    assert error.message_dict == {"role": [GENERIC_SCOPE]}


@pytest.mark.django_db
def test_resending_an_invitation_sends_a_new_link_until_a_password_is_chosen(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_invite(
            email="late@fabrikam.example",
            full_name="",
            organisation=world.partner,
            role=Role.INCENTIVES_USER,
            location=world.location,
            actor=world.partner_admin,
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.user_resend_invitation(user=user, actor=world.partner_admin)
    assert [m.to for m in mailoutbox] == [["late@fabrikam.example"], ["late@fabrikam.example"]]
    assert AuditEvent.objects.filter(verb="user.reinvite", target_id=str(user.pk)).count() == 1
    error = refused(
        lambda: services.user_resend_invitation(user=world.partner_user, actor=world.partner_admin), Conflict
    )
    assert error.message == "uma.user@fabrikam.example has already chosen a password."
    error = refused(lambda: services.user_resend_invitation(user=user, actor=world.other_admin), PermissionDenied)
    assert str(error) == "You cannot manage the users of this organisation."


# ---------------------------------------------------------------------------------------------- roles


@pytest.mark.django_db
def test_partner_admin_grants_and_revokes_a_role_in_their_scope(world):
    grant = services.role_grant(
        user=world.partner_user, role=Role.INCENTIVES_USER, location=world.second_location, actor=world.partner_admin
    )
    assert (grant.user, grant.role, grant.location, grant.granted_by) == (
        world.partner_user,
        Role.INCENTIVES_USER,
        world.second_location,
        world.partner_admin,
    )
    services.role_revoke(assignment=grant, actor=world.partner_admin)
    assert not RoleAssignment.objects.filter(pk=grant.pk).exists()
    assert [(e.verb, e.changes) for e in AuditEvent.objects.order_by("id")] == [
        ("role.grant", {"role": [None, "Incentives user (Fabrikam Paris (FAB-002))"]}),
        ("role.revoke", {"role": ["Incentives user (Fabrikam Paris (FAB-002))", None]}),
    ]


@pytest.fixture
def narrow_admin(world):  # type: ignore[no-untyped-def]
    """An incentives admin of Fabrikam Berlin only, who is a mere user at Fabrikam Paris."""
    return make_user(
        "nina.narrow@fabrikam.example",
        world.partner,
        (Role.INCENTIVES_ADMIN, world.location),
        (Role.INCENTIVES_USER, world.second_location),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "role", "location", "errors"),
    [
        # another organisation's location
        (
            "partner_admin",
            "incentives_user",
            "other_location",
            {"location": ["Choose a location of the person's own organisation."]},
        ),
        # a location of their own organisation that they do not administer
        ("narrow_admin", "incentives_user", "second_location", {"role": [GENERIC_SCOPE]}),
        ("narrow_admin", "incentives_admin", "second_location", {"role": [GENERIC_SCOPE]}),
        # a vendor role, as a partner
        ("partner_admin", "auditor", None, {"role": ["Vendor roles are only for the vendor's own staff."]}),
        # the program manager does not hand out partner user roles (partners' admins do)
        ("program_manager", "incentives_user", "location", {"role": [GENERIC_SCOPE]}),
        # a role already held
        (
            "partner_admin",
            "incentives_user",
            "location",
            {"role": ["uma.user@fabrikam.example already holds this role here."]},
        ),
    ],
)
def test_grants_beyond_ones_scope_are_refused(world, narrow_admin, actor, role, location, errors):
    acting = narrow_admin if actor == "narrow_admin" else world.persona(actor)
    error = refused(
        lambda: services.role_grant(
            user=world.partner_user,
            role=Role(role),
            location=getattr(world, location) if location else None,
            actor=acting,
        )
    )
    assert error.message_dict == errors


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["partner_user", "other_admin", "reviewer", "finance", "auditor"])
def test_people_who_manage_nobody_there_cannot_grant(world, persona):
    target = world.partner_admin if persona == "partner_user" else world.partner_user
    error = refused(
        lambda: services.role_grant(
            user=target, role=Role.INCENTIVES_USER, location=world.second_location, actor=world.persona(persona)
        ),
        PermissionDenied,
    )
    assert str(error) == "You cannot manage the users of this organisation."


@pytest.mark.django_db
def test_nobody_grants_themselves_a_role(world):
    error = refused(
        lambda: services.role_grant(
            user=world.program_manager, role=Role.AUDITOR, location=None, actor=world.program_manager
        )
    )
    assert error.message_dict == {"role": [GENERIC_SCOPE]}


@pytest.mark.django_db
def test_a_program_scoped_admin_grants_only_within_that_program(world):
    # (the Program model through the fixture's row: accounts sits below programs and does not import it)
    other_program = type(world.program).objects.create(vendor=world.vendor, code="other", name="Other", currency="USD")
    scoped = make_user("sam.scoped@fabrikam.example", world.partner)
    RoleAssignment.objects.create(
        user=scoped, role=Role.INCENTIVES_ADMIN, location=world.location, program=world.program
    )
    for program in (None, other_program):
        error = refused(
            lambda program=program: services.role_grant(
                user=world.partner_user,
                role=Role.INCENTIVES_USER,
                location=world.second_location,
                program=program,
                actor=scoped,
            )
        )
        assert error.message_dict == {"role": [GENERIC_SCOPE]}
    RoleAssignment.objects.create(
        user=scoped, role=Role.INCENTIVES_ADMIN, location=world.second_location, program=world.program
    )
    del scoped.grants  # reload the cached grants
    grant = services.role_grant(
        user=world.partner_user,
        role=Role.INCENTIVES_USER,
        location=world.second_location,
        program=world.program,
        actor=scoped,
    )
    assert (grant.location, grant.program) == (world.second_location, world.program)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["partner_user", "other_admin", "program_manager", "reviewer", "auditor"])
def test_revoking_beyond_ones_scope_is_refused(world, persona):
    assignment = world.partner_user.role_assignments.get()
    error = refused(lambda: services.role_revoke(assignment=assignment, actor=world.persona(persona)), PermissionDenied)
    assert str(error) == "You cannot remove this role."


@pytest.mark.django_db
def test_nobody_removes_their_own_roles(world):
    assignment = world.partner_admin.role_assignments.first()
    error = refused(lambda: services.role_revoke(assignment=assignment, actor=world.partner_admin), PermissionDenied)
    assert str(error) == "You cannot remove this role."


# ---------------------------------------------------------------------------------------------- activation


@pytest.mark.django_db
def test_partner_admin_deactivates_and_reactivates_a_colleague(world):
    services.user_set_active(user=world.partner_user, active=False, actor=world.partner_admin)
    world.partner_user.refresh_from_db()
    assert world.partner_user.is_active is False
    services.user_set_active(user=world.partner_user, active=False, actor=world.partner_admin)  # no-op, no audit
    services.user_set_active(user=world.partner_user, active=True, actor=world.partner_admin)
    world.partner_user.refresh_from_db()
    assert world.partner_user.is_active is True
    assert [(e.verb, e.changes) for e in AuditEvent.objects.order_by("id")] == [
        ("user.deactivate", {"is_active": [True, False]}),
        ("user.activate", {"is_active": [False, True]}),
    ]


@pytest.mark.django_db
def test_nobody_deactivates_themselves(world):
    error = refused(lambda: services.user_set_active(user=world.partner_admin, active=False, actor=world.partner_admin))
    assert error.message_dict == {"is_active": ["You cannot deactivate or reactivate yourself."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("partner_user", "partner_admin"),
        ("other_admin", "partner_user"),
        ("reviewer", "partner_user"),
        ("auditor", "finance"),
        ("partner_admin", "reviewer"),
        ("narrow_admin", "partner_admin"),  # the colleague administers a location the actor does not
    ],
)
def test_switching_accounts_off_beyond_ones_scope_is_refused(world, narrow_admin, actor, target):
    acting = narrow_admin if actor == "narrow_admin" else world.persona(actor)
    error = refused(
        lambda: services.user_set_active(user=world.persona(target), active=False, actor=acting), PermissionDenied
    )
    assert str(error) == "You cannot switch this person's account on or off."
    assert User.objects.get(pk=world.persona(target).pk).is_active is True


@pytest.mark.django_db
def test_program_manager_deactivates_partner_and_vendor_people(world):
    services.user_set_active(user=world.other_admin, active=False, actor=world.program_manager)
    services.user_set_active(user=world.reviewer, active=False, actor=world.program_manager)
    assert list(User.objects.filter(is_active=False).order_by("email").values_list("email", flat=True)) == [
        "olga.admin@northwind.example",
        "rita.reviewer@contoso.example",
    ]


# ---------------------------------------------------------------------------------------------- API tokens


@pytest.mark.django_db
def test_a_token_is_stored_only_as_a_digest_and_never_audited(world):
    token, plain = services.api_token_create(name=" ERP import ", actor=world.partner_user)
    assert plain.startswith("cf_")
    assert len(plain) == 46
    assert (token.name, token.prefix, token.user) == ("ERP import", plain[:10], world.partner_user)
    assert plain not in token.digest
    event = AuditEvent.objects.get()
    assert (event.verb, event.changes, event.organisation_id) == ("api_token.create", {}, world.partner.pk)
    assert plain not in str(AuditEvent.objects.values_list("changes", "target_repr", "reason"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "Name the token after what will use it, e.g. “ERP import”."),
        ("x" * 101, "Keep the name to 100 characters or fewer."),
    ],
)
def test_token_names_are_checked(world, name, message):
    error = refused(lambda: services.api_token_create(name=name, actor=world.partner_user))
    assert error.message_dict == {"name": [message]}


@pytest.mark.django_db
def test_tokens_are_revoked_by_their_owner_once(world):
    token, _ = services.api_token_create(name="ERP", actor=world.partner_user)
    error = refused(lambda: services.api_token_revoke(token=token, actor=world.partner_admin), PermissionDenied)
    assert str(error) == "You can only revoke your own tokens."
    services.api_token_revoke(token=token, actor=world.partner_user)
    token.refresh_from_db()
    assert token.revoked_at is not None
    error = refused(lambda: services.api_token_revoke(token=token, actor=world.partner_user), Conflict)
    assert (error.code, error.message) == ("already_revoked", "This token is already revoked.")
