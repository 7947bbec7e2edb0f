from django.tasks import task


@task()
def make_preview(*, document_id: int) -> None:
    """Make a document's preview once its upload has committed (immediately on the embedded default)."""
    from coopfunds.documents.services import document_preview_make  # services enqueues this task

    document_preview_make(document_id=document_id)
