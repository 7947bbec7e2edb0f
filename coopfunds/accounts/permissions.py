"""Pure predicates over a user's role assignments (`user.grants`, loaded once). No queries of their own.

A grant covers a (location, program) when it names that location or no location, and that program or no
program. Partner grants always name a location, so they never cover vendor-wide actions.
"""

from typing import Any

from coopfunds.accounts.models import PARTNER_ROLES, VENDOR_ROLES, Location, Organisation, Role, RoleAssignment, User

# A role may grant the roles listed here (and no others), never beyond its own scope.
GRANTABLE: dict[str, frozenset[Role]] = {
    Role.INCENTIVES_ADMIN: frozenset({Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER}),
    # Program managers run the vendor side and onboard partners (the first incentives admin of a location).
    Role.PROGRAM_MANAGER: frozenset(VENDOR_ROLES | {Role.INCENTIVES_ADMIN}),
}


ANY = object()  # as `program`: any program will do


def _id(obj: Any) -> int | None:
    return None if obj is None else (obj if isinstance(obj, int) else obj.pk)


def covers(grant: RoleAssignment, location: Location | int | None, program: Any) -> bool:
    if grant.location_id is not None and grant.location_id != _id(location):
        return False
    return program is ANY or grant.program_id is None or grant.program_id == _id(program)


def holds(user: User, roles: Role | frozenset[Role] | set[Role], *, location: Any = None, program: Any = ANY) -> bool:
    """Does `user` hold one of `roles` for this location (None: vendor-wide) and program (None: every
    program; ANY, the default: at least one program)?"""
    if not user.is_authenticated or not user.is_active:
        return False
    wanted = {roles} if isinstance(roles, str) else roles
    return any(g.role in wanted and covers(g, location, program) for g in user.grants)


def may_review(user: User, item: Any, organisation_id: int) -> bool:
    """Take and decide `item`, filed for a program by the partner organisation `organisation_id` (a claim, a
    plan, a proof, a customer association): a reviewer of its program, never of their own organisation's
    work, never of what they filed or submitted themselves."""
    return (
        holds(user, Role.REVIEWER, program=item.program_id)
        and user.organisation_id != organisation_id
        and user.pk not in (item.created_by_id, item.submitted_by_id)
    )


def holds_anywhere(user: User, roles: Role | frozenset[Role] | set[Role]) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    wanted = {roles} if isinstance(roles, str) else roles
    return any(g.role in wanted for g in user.grants)


def is_vendor_staff(user: User) -> bool:
    return (
        user.is_authenticated
        and user.organisation.kind == Organisation.Kind.VENDOR
        and holds_anywhere(user, VENDOR_ROLES)
    )


def can_read_audit_log(user: User) -> bool:
    """The whole audit log (search, export): auditors and program managers."""
    return is_vendor_staff(user) and holds_anywhere(user, {Role.AUDITOR, Role.PROGRAM_MANAGER})


def is_partner_user(user: User) -> bool:
    return (
        user.is_authenticated
        and user.organisation.kind == Organisation.Kind.PARTNER
        and holds_anywhere(user, PARTNER_ROLES)
    )


def can_manage_partners(user: User) -> bool:
    """Create partner organisations and locations, onboard their first admin."""
    return holds(user, Role.PROGRAM_MANAGER)


def can_manage_users_of(user: User, organisation: Organisation) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if organisation.kind == Organisation.Kind.PARTNER:
        return (user.organisation_id == organisation.pk and holds_anywhere(user, Role.INCENTIVES_ADMIN)) or holds(
            user, Role.PROGRAM_MANAGER
        )
    return user.organisation_id == organisation.pk and holds_anywhere(user, Role.PROGRAM_MANAGER)


def can_grant(actor: User, *, target: User, role: Role, location: Location | None, program: Any) -> bool:
    """Nobody grants a role they could not hold themselves, beyond their own scope, or across organisations."""
    if actor.pk == target.pk:
        return False  # nobody raises their own rights
    if role in PARTNER_ROLES:
        if location is None or target.organisation_id != location.organisation_id:
            return False
    elif location is not None or target.organisation_id != actor.organisation_id:
        return False
    if role in PARTNER_ROLES and actor.organisation_id == target.organisation_id:
        granting_roles = {Role.INCENTIVES_ADMIN}
    elif role in PARTNER_ROLES:
        granting_roles = {Role.PROGRAM_MANAGER}  # vendor onboarding a partner
    else:
        granting_roles = {Role.PROGRAM_MANAGER}
    return (
        any(
            g.role in granting_roles
            and role in GRANTABLE.get(g.role, frozenset())
            and (g.location_id is None or g.location_id == _id(location))
            and (g.program_id is None or g.program_id == _id(program))
            for g in actor.grants
        )
        and actor.is_active
    )


def can_revoke(actor: User, assignment: RoleAssignment) -> bool:
    return can_grant(
        actor,
        target=assignment.user,
        role=Role(assignment.role),
        location=assignment.location,
        program=assignment.program_id,
    )


def can_see_bank_details(user: User, location: Location) -> bool:
    """Only incentives admins of the location's own organisation ever see bank details unmasked."""
    return user.organisation_id == location.organisation_id and holds(user, Role.INCENTIVES_ADMIN, location=location)


def grantable_roles(actor: User) -> list[Role]:
    """The roles `actor` may give to someone (somewhere in their scope), in the order of the Role enum."""
    if not actor.is_authenticated or not actor.is_active:
        return []
    held = {r for g in actor.grants for r in GRANTABLE.get(g.role, frozenset())}
    return [r for r in Role if r in held]


def can_invite_to(actor: User, organisation: Organisation) -> bool:
    """May `actor` invite people into `organisation` (each with a first role that `can_grant` allows)?"""
    return can_manage_users_of(actor, organisation) and bool(grantable_roles(actor))


def _administers_all_locations_of(actor: User, target: User) -> bool:
    administered = {g.location_id for g in actor.grants if g.role == Role.INCENTIVES_ADMIN and g.program_id is None}
    return all(g.location_id in administered for g in target.grants if g.role in PARTNER_ROLES)


def can_set_active(actor: User, target: User) -> bool:
    """Deactivate or reactivate `target`. Never oneself. A program manager may for anyone of the vendor or a
    partner; an incentives admin only for people of their own organisation whose every role is on a location
    the admin administers for all programs (nobody switches off a colleague with a wider scope)."""
    if actor.pk == target.pk or not can_manage_users_of(actor, target.organisation):
        return False
    if holds(actor, Role.PROGRAM_MANAGER, program=None):
        return True
    if target.organisation.kind == Organisation.Kind.VENDOR:
        return False
    return actor.organisation_id == target.organisation_id and _administers_all_locations_of(actor, target)


def can_view_location(user: User, location: Location) -> bool:
    """Vendor staff see every location; partner users the locations of their organisation their grants name."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_vendor_staff(user):
        return True
    return user.organisation_id == location.organisation_id and any(
        g.role in PARTNER_ROLES and g.location_id == location.pk for g in user.grants
    )
