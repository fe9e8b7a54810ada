"""Evidence attached to a 工单 (S3, ``attachments.py``): the owner uploads through a presigned POST; the owner
and staff who may work the case list and download through short-lived links."""
from __future__ import annotations

from chalicelib.escalation import attachments, casework, schemas
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger


def attachment_upload(actor: Actor, ctx: Context, case_id: str, filename: str, content_type: str,
                      size: int) -> schemas.AttachmentUpload:
    """A presigned POST for one file, for the owner's own case only; S3 enforces the same type and size."""
    case = casework.load_own(actor, case_id)
    if content_type not in attachments.TYPES:
        raise refusals.Invalid("只能上传 PNG、JPEG、WebP 图片或 PDF 文件。", code="attachment_type",
                               field="content_type")
    if size > attachments.MAX_BYTES:
        raise refusals.Invalid(f"文件不能超过 {attachments.MAX_BYTES // (1024 * 1024)} MB。",
                               code="attachment_too_large", field="size")
    if case.status == "closed":
        raise refusals.Conflicting("工单已关闭，不能再上传附件。如有新的问题，请新建工单。", code="case_closed")
    if len(attachments.list_case(case.case_id)) >= attachments.MAX_PER_CASE:
        raise refusals.Conflicting(f"每个工单最多上传 {attachments.MAX_PER_CASE} 个附件。", code="too_many_attachments")
    attachment_id = attachments.new_id(ctx.now)
    url, fields, expires = attachments.presigned_post(
        case.case_id, attachment_id, attachments.safe_filename(filename, content_type), content_type,
        attachments.MAX_BYTES, ctx.now)
    logger.info("attachment upload granted", extra={"case_id": case.case_id, "content_type": content_type})
    return schemas.AttachmentUpload(attachment_id=attachment_id, url=url, fields=fields,
                                    max_bytes=attachments.MAX_BYTES, expires_at=expires)


def info(stored: attachments.Stored) -> dict:
    """What a reader sees of a stored file (never its S3 key)."""
    return dict(attachment_id=stored.attachment_id, filename=stored.filename, content_type=stored.content_type,
                size=stored.size, uploaded_at=stored.uploaded_at)


def list_attachments(actor: Actor, ctx: Context, case_id: str) -> schemas.AttachmentList:
    """The owner's or staff's view of a case's evidence, each with a short-lived download link."""
    case = casework.load_visible(actor, case_id)
    items = []
    for stored in attachments.list_case(case.case_id):
        url, expires = attachments.download_url(stored, ctx.now)
        items.append(schemas.Attachment(**info(stored), download_url=url, download_expires_at=expires))
    return schemas.AttachmentList(case_id=case.case_id, items=items, max_bytes=attachments.MAX_BYTES,
                                  content_types=list(attachments.TYPES))


def attachment_download(actor: Actor, ctx: Context, case_id: str, attachment_id: str) -> str:
    """A presigned GET for one attachment (owner or staff); someone else's case or a wrong id: 404."""
    case = casework.load_visible(actor, case_id)
    stored = attachments.find(case.case_id, attachment_id)
    if stored is None:
        raise refusals.Missing("找不到这个附件。", code="attachment_not_found")
    return attachments.download_url(stored, ctx.now)[0]
