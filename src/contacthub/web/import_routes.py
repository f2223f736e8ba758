"""The dashboard's CSV import: the upload page, the import streamed as it runs, and the download
of its rejected rows.

The import lives in the one request that uploads the file, so it needs no job
store shared between workers, and its progress shows without JavaScript.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from gzip import GzipFile

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from contacthub.domain.users import Principal
from contacthub.edge.context import AppContext, context_of
from contacthub.imports import ImportFileError, Row
from contacthub.web import importing, rejected, session
from contacthub.web.forms import FormShape
from contacthub.web.importing import ImportSlots, ImportTally, UploadedCsv
from contacthub.web.routes import (
    _HEADERS,
    Session,
    _form,
    _refused,
    _render,
    _session,
    _signed_in,
    templates,
)

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("contacthub.web")
IMPORT_FORM = 2  # the CSRF token, and one file


@router.get("/import")
async def import_page(request: Request) -> Response:
    current = await _signed_in(request)
    return _render(request, "import.html", session=current, error=None)


class _ImportPage(StreamingResponse):
    """The import's streamed page: however it ends, the stream is closed, then `finish` runs."""

    def __init__(self, stream: AsyncGenerator[str, None], finish: Callable[[], None]) -> None:
        super().__init__(stream, media_type="text/html; charset=utf-8", headers=_HEADERS)
        self._stream = stream
        self._finish = finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Nothing here waits, so a cancelled request (the server stopping) cannot skip it.
            self._finish()
            await self._stream.aclose()


IMPORT_RETRY_SECONDS = 30


def _busy(request: Request) -> Response:
    response = _render(
        request,
        "message.html",
        status=503,
        title="Busy",
        message="Other imports are running on this server. Nothing was stored; "
        f"try again in {IMPORT_RETRY_SECONDS} seconds.",
    )
    response.headers["Retry-After"] = str(IMPORT_RETRY_SECONDS)
    return response


@router.post("/import")
async def run_import(request: Request) -> Response:
    """Import the uploaded file, streaming the page: progress as batches finish, then the summary.

    Its place among the imports at once is taken before the upload is read,
    and given back when the page ends, however it ends.
    """
    current = await _signed_in(request)
    settings = context_of(request).settings
    slots: ImportSlots = request.app.state.import_slots
    if not slots.take():
        return _busy(request)
    form: FormData | None = None
    upload: UploadedCsv | None = None

    def finish() -> None:
        slots.give_back()
        if upload is not None:
            upload.close()
        if form is not None:
            for _name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    value.file.close()  # a spooled file: closing deletes it

    handed_over = False
    try:
        shape = FormShape(settings.max_import_bytes, IMPORT_FORM, max_files=1)
        form = await _form(request, shape)
        if not session.csrf_matches(current.csrf_token, form.get(session.CSRF_FIELD)):
            return _refused(request)
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _render(request, "import.html", 400, session=current, error="Choose a CSV file.")
        try:
            upload = await run_in_threadpool(
                UploadedCsv, file.file, file.filename, current.principal.default_region
            )
        except ImportFileError as error:
            # The problem alone: the hint names `contacthub import`'s flags.
            return _render(request, "import.html", 400, session=current, error=error.problem)
        except (UnicodeDecodeError, ValueError, csv.Error) as error:
            message = f"This file cannot be read as a UTF-8 CSV ({error})."
            return _render(request, "import.html", 400, session=current, error=message)
        page = templates.get_template("import_run.html").render(
            request=request, session=current, filename=file.filename
        )
        head, tail = page.split(_PROGRESS_MARK)
        stream = _import_stream(
            context_of(request),
            current,
            upload,
            upload_bytes=file.size or 0,
            page=(head, tail),
        )
        handed_over = True
        return _ImportPage(stream, finish)
    finally:
        if not handed_over:
            finish()


_PROGRESS_MARK = "<!-- progress -->"
# Progress is drawn when the bar moves by 1% or more: at most 101 times, whatever the file.
_PROGRESS_STEPS = 100


async def _import_stream(
    context: AppContext,
    current: Session,
    upload: UploadedCsv,
    *,
    upload_bytes: int,
    page: tuple[str, str],
) -> AsyncGenerator[str, None]:
    head, tail = page
    tally = ImportTally(total_rows=upload.total_rows)
    progress = templates.get_template("_import_progress.html")
    yield head
    yield progress.render(tally=tally)
    drawn = 0
    error = None
    kept: rejected.RejectedFile | None = None
    try:
        kept = await run_in_threadpool(
            _new_rejected_file, context, current.principal, upload, upload_bytes
        )
        while checked := await run_in_threadpool(upload.next_rows):
            await _add_rows(checked, tally, kept, context, current.principal)
            step = tally.done_rows * _PROGRESS_STEPS // max(tally.total_rows, 1)
            if step > drawn:
                drawn = step
                yield progress.render(tally=tally)
    except Exception:
        # The page is half sent, so the error is told on it; what was added stays added.
        logger.exception("dashboard import stopped")
        error = "The import stopped because of a server error; the summary shows what was done."
    except BaseException:
        # The page was left: no summary will ever link to the rows kept.
        if kept is not None:
            kept.remove()
        raise
    if kept is not None and kept.kept:
        kept.close()
        tally.rejected_link = f"/import/rejected/{kept.id}.csv"
        tally.rejected_not_kept = kept.dropped
    elif kept is not None:
        kept.remove()
    if drawn < _PROGRESS_STEPS:
        yield progress.render(tally=tally)
    yield templates.get_template("_import_summary.html").render(
        session=current, tally=tally, error=error, keep_minutes=rejected.KEEP_SECONDS // 60
    )
    yield tail


def _new_rejected_file(
    context: AppContext, principal: Principal, upload: UploadedCsv, upload_bytes: int
) -> rejected.RejectedFile:
    rejected.sweep(REJECTED_BUDGET_UPLOADS * context.settings.max_import_bytes)
    limit = max(upload_bytes, MIN_REJECTED_BYTES)
    return rejected.RejectedFile(principal.app_id, upload.headers, limit)


async def _add_rows(
    checked: list[tuple[Row, str]],
    tally: ImportTally,
    kept: rejected.RejectedFile,
    context: AppContext,
    principal: Principal,
) -> None:
    """Send one batch's good rows, each number once; count and keep its rejected rows."""
    good = [row for row, reason in checked if not reason]
    to_send = list(importing.unique_numbers(good))
    tally.duplicates += len(good) - len(to_send)
    refused = await importing.add_batch(tally, to_send, context, principal)
    rows_out = sorted(
        [(row, reason) for row, reason in checked if reason] + refused,
        key=lambda item: item[0].line,
    )
    tally.rejected += len(rows_out)
    room = importing.SHOWN_REJECTED - len(tally.shown)
    tally.shown += [(row.line, reason) for row, reason in rows_out[:room]]
    await run_in_threadpool(kept.add, [(row.line, reason, row.values) for row, reason in rows_out])
    tally.done_rows += len(checked)


# The kept rejected rows of all imports together, in uploads of max_import_bytes:
# past it the oldest files go first.
REJECTED_BUDGET_UPLOADS = 4
MIN_REJECTED_BYTES = 64 * 1024  # so that a tiny file's few rejected rows are all kept


@router.get("/import/rejected/{file_id}.csv")
async def rejected_rows(request: Request, file_id: str) -> Response:
    """The rejected rows of an import of this organization, while they are kept; else 404."""
    current = await _session(request)
    kept: GzipFile | None = None
    if current is not None:
        kept = await run_in_threadpool(rejected.open_kept, current.principal.app_id, file_id)
    if kept is None:
        return _render(
            request,
            "message.html",
            status=404,
            title="No such file",
            message="These rejected rows are not kept (any more): rejected rows are kept for "
            f"{rejected.KEEP_SECONDS // 60} minutes after their import, for its organization.",
        )
    return StreamingResponse(
        _chunks(kept),
        media_type="text/csv; charset=utf-8",
        headers={**_HEADERS, "Content-Disposition": 'attachment; filename="rejected.csv"'},
    )


async def _chunks(file: GzipFile) -> AsyncIterator[bytes]:
    try:
        while chunk := await run_in_threadpool(file.read, 1 << 16):
            yield chunk
    finally:
        file.close()
