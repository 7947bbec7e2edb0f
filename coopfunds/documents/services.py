"""Writes for documents. Building blocks that other apps call inside their own transaction (they assert
they are in one): `document_store`, `document_new_version`, `document_lock`, `document_delete`. Thin
durable wrappers for this app's own interfaces: `documents_upload` (a batch, all or nothing),
`document_replace`, `document_discard`. Preview making runs after commit (tasks.py)."""

import calendar
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.selectors import locations_visible_to
from coopfunds.audit.services import audit_record
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.documents import permissions, previews, selectors
from coopfunds.documents.filetypes import IMAGE_TYPES, FileType
from coopfunds.documents.inspection import Inspected, UploadPolicy, inspect_upload, inspect_uploads
from coopfunds.documents.models import RETENTION_MONTHS, Document, PreviewState
from coopfunds.documents.tasks import make_preview

__all__ = [
    "UploadPolicy",
    "document_delete",
    "document_discard",
    "document_lock",
    "document_new_version",
    "document_preview_make",
    "document_replace",
    "document_store",
    "documents_upload",
    "retention_date",
    "storage_orphans_delete",
]

PROOF = "proof"
MAX_NOTE = 2000
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def retention_date(activity_date: date) -> date:
    """The activity date plus 24 months (the 29th of February becomes the 28th)."""
    months = activity_date.month - 1 + RETENTION_MONTHS
    year, month = activity_date.year + months // 12, months % 12 + 1
    return date(year, month, min(activity_date.day, calendar.monthrange(year, month)[1]))


def _field_errors(kind: str, note: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not _KIND.match(kind):
        errors["kind"] = [
            _(
                "Say what the document is in one short word such as invoice or proof (lowercase letters, digits and "
                "_, at most 32)."
            )
        ]
    if len(note) > MAX_NOTE:
        errors["note"] = [
            _("Keep the note to %(most)s characters; it is %(n)s.")
            % {"most": number_format(MAX_NOTE, force_grouping=True), "n": number_format(len(note), force_grouping=True)}
        ]
    elif kind == PROOF and not note:
        errors["note"] = [_("Add a note that explains what this proof document shows.")]
    return errors


def _authorise_upload(actor: User, location: Location) -> None:
    if permissions.can_add_documents(actor, location):
        return
    if locations_visible_to(actor).filter(pk=location.pk).exists():
        raise PermissionDenied(_("Only the location's incentives admins and users can add or change its documents."))
    raise NotFound(_("No such location."))


def _authorise_change(actor: User, document: Document) -> None:
    if not permissions.can_see_document(actor, document):
        raise NotFound(_("No such document."))
    if not permissions.can_change_document(actor, document):
        raise PermissionDenied(_("Only the location's incentives admins and users can add or change its documents."))


def _insert(
    inspected: Inspected,
    upload: File,
    *,
    kind: str,
    note: str,
    location: Location,
    actor: User,
    retain_until: date | None,
    version_of: Document | None,
) -> Document:
    """Save the file under a random name, then the row; the file is removed again if the row fails."""
    previewable = inspected.file_type in IMAGE_TYPES or inspected.file_type == FileType.PDF
    document = Document(
        location=location,
        kind=kind,
        note=note,
        original_name=inspected.name,
        file_type=inspected.file_type,
        content_type=inspected.content_type,
        size=inspected.size,
        sha256=inspected.sha256,
        scan_state=inspected.scan_state,
        uploaded_by=actor,
        version_of=version_of,
        retain_until=retain_until,
        preview_state=PreviewState.PENDING if previewable else PreviewState.NONE,
    )
    upload.seek(0)
    document.file.save("upload", upload, save=False)  # the name is ignored: document_path makes a random one
    saved = False
    try:
        with transaction.atomic():
            document.save()
        saved = True
    except IntegrityError:
        if version_of is not None:
            raise Conflict(
                _("“%(name)s” has just been replaced by someone else; replace the newest version.")
                % {"name": version_of.original_name},
                code="superseded",
            ) from None
        raise
    finally:
        if not saved and document.file.name:
            document.file.storage.delete(document.file.name)
    if previewable:
        transaction.on_commit(partial(make_preview.enqueue, document_id=document.pk))
    return document


def documents_store(
    *,
    uploads: Sequence[File],
    kind: str,
    note: str,
    location: Location,
    policy: UploadPolicy,
    actor: User,
    retain_from: date | None = None,
) -> list[Document]:
    """Check a batch of uploads (all or nothing: every refused file named at once, before any is written), then
    keep each with `document_store`. A building block: call it inside a transaction."""
    inspect_uploads(uploads, policy)
    return [
        document_store(
            upload=upload, kind=kind, note=note, location=location, policy=policy, actor=actor, retain_from=retain_from
        )
        for upload in uploads
    ]


def document_store(
    *,
    upload: File,
    kind: str,
    note: str,
    location: Location,
    policy: UploadPolicy,
    actor: User,
    retain_from: date | None = None,
) -> Document:
    """Check and keep one uploaded file for `location`. A building block: call it inside a transaction.
    `retain_from` is the activity date (kept 24 months from it). Raises ValidationError {kind, note, file}."""
    assert_in_transaction()
    _authorise_upload(actor, location)
    kind, note = kind.strip(), note.strip()
    errors = _field_errors(kind, note)
    try:
        inspected = inspect_upload(upload, policy)
    except ValidationError as e:
        errors["file"] = e.messages
    if errors:
        raise ValidationError(errors)
    document = _insert(
        inspected,
        upload,
        kind=kind,
        note=note,
        location=location,
        actor=actor,
        retain_until=retention_date(retain_from) if retain_from else None,
        version_of=None,
    )
    _audit_stored(document, actor, "document.store")
    return document


def _audit_stored(document: Document, actor: User, verb: str) -> None:
    audit_record(
        actor=actor,
        verb=verb,
        target=document,
        changes={
            "name": (None, document.original_name),
            "kind": (None, document.kind),
            "file_type": (None, document.file_type),
            "size": (None, document.size),
            "sha256": (None, document.sha256),
            **({"version_of": (None, document.version_of_id)} if document.version_of_id else {}),
        },
        organisation_id=document.location.organisation_id,
    )


def _locked_row(document: Document) -> Document:
    return Document.objects.select_for_update(of=("self",)).select_related("location").get(pk=document.pk)


def document_new_version(*, document: Document, upload: File, note: str, policy: UploadPolicy, actor: User) -> Document:
    """A new row replacing `document` (kept, with its lock if it has one). Only the newest version can be
    replaced. A building block: call it inside a transaction."""
    assert_in_transaction()
    current = _locked_row(document)
    _authorise_change(actor, current)
    if selectors.newer_version_of(current) is not None:
        raise Conflict(
            _("“%(name)s” has already been replaced by a newer version; replace that one.")
            % {"name": current.original_name},
            code="superseded",
        )
    note = note.strip()
    errors = _field_errors(current.kind, note)
    try:
        inspected = inspect_upload(upload, policy)
    except ValidationError as e:
        errors["file"] = e.messages
    if errors:
        raise ValidationError(errors)
    new = _insert(
        inspected,
        upload,
        kind=current.kind,
        note=note,
        location=current.location,
        actor=actor,
        retain_until=current.retain_until,
        version_of=current,
    )
    _audit_stored(new, actor, "document.new_version")
    return new


def document_lock(
    *, documents: Iterable[Document], actor: User | None = None, retain_from: date | None = None
) -> list[Document]:
    """Lock documents when what they belong to is submitted: never changed or deleted after (a new version is
    a new row). `retain_from` (the activity date) moves their retention date later, never earlier.
    Idempotent. A building block: call it inside a transaction."""
    assert_in_transaction()
    ids = sorted({d.pk for d in documents})
    rows = list(
        Document.objects.select_for_update(of=("self",)).select_related("location").filter(pk__in=ids).order_by("pk")
    )
    now, keep = timezone.now(), retention_date(retain_from) if retain_from else None
    for row in rows:
        changes: dict[str, tuple[object, object]] = {}
        if row.locked_at is None:
            changes["locked_at"] = (None, now)
            row.locked_at = now
        if keep is not None and (row.retain_until is None or row.retain_until < keep):
            changes["retain_until"] = (row.retain_until, keep)
            row.retain_until = keep
        if changes:
            row.save(update_fields=list(changes))
            audit_record(
                actor=actor,
                verb="document.lock",
                target=row,
                changes=changes,
                organisation_id=row.location.organisation_id,
            )
    return rows


def document_delete(*, document: Document, actor: User) -> None:
    """Delete an unlocked document (or a locked one whose retention date has passed) that nothing else
    holds and that has no newer version. Its files go once the transaction commits. A building block."""
    assert_in_transaction()
    row = _locked_row(document)
    _authorise_change(actor, row)
    if row.must_keep_on(timezone.localdate()):
        locked = (
            _("“%(name)s” is locked: it belongs to something already submitted and is kept until %(day)s.")
            if row.retain_until
            else _("“%(name)s” is locked: it belongs to something already submitted and is kept.")
        )
        day = date_format(row.retain_until, "j F Y") if row.retain_until else ""
        raise Conflict(locked % {"name": row.original_name, "day": day}, code="locked")
    if selectors.newer_version_of(row) is not None:
        raise Conflict(
            _("“%(name)s” has a newer version; earlier versions are kept.") % {"name": row.original_name},
            code="has_newer",
        )
    audit_record(
        actor=actor,
        verb="document.delete",
        target=row,
        changes={"name": (row.original_name, None), "sha256": (row.sha256, None)},
        organisation_id=row.location.organisation_id,
    )
    files = [name for name in (row.file.name, row.preview.name) if name]
    storage = row.file.storage
    try:
        with transaction.atomic():
            row.delete()
    except ProtectedError:
        raise Conflict(
            _("“%(name)s” is still attached to a claim or another record; remove it there first.")
            % {"name": row.original_name},
            code="in_use",
        ) from None
    transaction.on_commit(partial(_delete_files, storage, files))


def _delete_files(storage: Storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


# ------------------------------------------------------------------------------ durable wrappers


@transaction.atomic(durable=True)
def documents_upload(
    *,
    uploads: Sequence[File],
    kind: str,
    note: str,
    location: Location,
    actor: User,
    retain_from: date | None = None,
) -> list[Document]:
    """Several files for a location at once, all or nothing: a ValidationError {files: [...]} names every
    refused file and nothing is kept. The location's unlocked documents count against the total limit."""
    _authorise_upload(actor, location)
    location = Location.objects.select_for_update().get(pk=location.pk)  # one upload at a time per location
    kind, note = kind.strip(), note.strip()
    errors = _field_errors(kind, note)
    policy = UploadPolicy(already_bytes=selectors.unattached_bytes(location))
    try:
        inspected = inspect_uploads(uploads, policy)
    except ValidationError as e:
        errors.update(e.message_dict)
    if errors:
        raise ValidationError(errors)
    keep = retention_date(retain_from) if retain_from else None
    stored = []
    for one, upload in zip(inspected, uploads, strict=True):
        document = _insert(
            one, upload, kind=kind, note=note, location=location, actor=actor, retain_until=keep, version_of=None
        )
        _audit_stored(document, actor, "document.store")
        stored.append(document)
    return stored


@transaction.atomic(durable=True)
def document_replace(*, document: Document, upload: File, note: str, actor: User) -> Document:
    """A new version of `document` with the default policy (its location's unlocked documents counted)."""
    _authorise_change(actor, document)
    location = Location.objects.select_for_update().get(pk=document.location_id)
    policy = UploadPolicy(already_bytes=selectors.unattached_bytes(location))
    return document_new_version(document=document, upload=upload, note=note, policy=policy, actor=actor)


@transaction.atomic(durable=True)
def document_discard(*, document: Document, actor: User) -> None:
    document_delete(document=document, actor=actor)


# ------------------------------------------------------------------------------ previews and upkeep


def document_preview_make(*, document_id: int) -> Document | None:
    """Make the preview of a document waiting for one (run by a task after the upload commits). The
    rendering happens outside any transaction; a document deleted meanwhile is skipped."""
    document = Document.objects.filter(pk=document_id, preview_state=PreviewState.PENDING).first()
    if document is None:
        return None
    with document.file.open("rb") as source:
        png = previews.make_preview(source, document.file_type)
    if png:
        document.preview.save("preview.png", ContentFile(png), save=False)  # preview_path names it
    with transaction.atomic(durable=True):
        updated = Document.objects.filter(pk=document_id, preview_state=PreviewState.PENDING).update(
            preview=document.preview.name or "", preview_state=PreviewState.READY if png else PreviewState.NONE
        )
    if png and not updated and document.preview.name:
        document.preview.storage.delete(document.preview.name)
    return Document.objects.filter(pk=document_id).first()


def _walk(storage: Storage, top: str) -> Iterable[str]:
    try:
        folders, files = storage.listdir(top)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{top}/{name}"
    for folder in folders:
        yield from _walk(storage, f"{top}/{folder}")


def storage_orphans_delete(*, older_than: timedelta = timedelta(days=1)) -> list[str]:
    """Delete stored files that no document row names (left behind when a caller's transaction rolled back
    after the file was written), if older than `older_than`. Returns the names deleted."""
    known = set(Document.objects.values_list("file", flat=True)) | set(
        Document.objects.exclude(preview="").values_list("preview", flat=True)
    )
    cutoff = timezone.now() - older_than
    deleted = []
    for top in ("documents", "previews"):
        for name in _walk(default_storage, top):
            if name not in known and default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                deleted.append(name)
    return deleted
