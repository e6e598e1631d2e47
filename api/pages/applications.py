"""Application pages (the proposal form, the record and its actions), the public publicity
page with its objection form, and staff's objection list."""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.deps import (
    CurrentPrincipal,
    IdPath,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    check_csrf,
)
from api.errors import validation_details
from api.pages.forms import domain_errors, form_values, parse, read_form, submit_form
from api.pages.grant_pages import flash, grant_labels, table_rows
from api.routing import Router, reads_only
from api.web import register_nav, render
from core.clock import today
from core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from core.files import FileStore
from core.i18n import N_, _, current_locale
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from grants.applications import publicity
from grants.applications import repository as application_queries
from grants.applications import service as application_service
from grants.applications.models import (
    Application,
    ObjectionState,
)
from grants.applications.schemas import (
    ApplicationCreate,
    ApplicationIn,
    ApplicationOut,
    CheckDecision,
    ConfirmEligibility,
    ObjectionIn,
    ReasonIn,
    ResolveObjection,
)
from grants.programmes import service as programmes
from grants.programmes.models import (
    Programme,
)
from incubator import service as incubator
from reports.pdf import get_renderer, render_html

router = Router(include_in_schema=False)

register_nav("/applications", N_("Applications"), {Role.staff, Role.applicant})
register_nav("/objections", N_("Objections"), {Role.staff, Role.admin})


def _projects(rows: list[tuple[Application, Any, Any]]) -> list[tuple[int, str]]:
    return [(a.id, f"{o.name} · {a.title}") for a, o, _c in rows]


async def _publicity_context(session: SessionDep) -> dict[str, Any]:
    notices = await publicity.publicity_notices(session, today())
    rows = [row for notice in notices for row in notice.rows]
    return {"notices": notices, "rows": rows, "projects": _projects(rows), **grant_labels()}


@router.get("/public/publicity")
async def publicity_page(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    return render(
        request,
        "web/applications/publicity.html",
        {**await _publicity_context(session), "flash": flash(request), "errors": {}, "values": {}},
    )


@router.post("/public/publicity/objections")
async def publicity_objection(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    await check_csrf(request, settings)
    values = form_values(await read_form(request))

    async def lodged(data: ObjectionIn) -> Response:
        address = request.client.host if request.client else "unknown"
        await identity.rate_limit(session, f"objection:{address}", limit=5, window_seconds=3600)
        objection = await publicity.lodge_objection(session, data, on=today())
        query = urlencode({"reference": objection.reference or "", "msg": "objection"})
        return RedirectResponse(f"/public/objections?{query}", status_code=303)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return render(
            request,
            "web/applications/publicity.html",
            {**await _publicity_context(session), "errors": errors, "values": values},
            status_code=status_code,
        )

    return await submit_form(parse(ObjectionIn, values), lodged, again, shown=(404, 422, 429))


@router.get("/public/objections")
async def objection_lookup(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Anyone with an objection's reference sees how it stands (never who lodged it or what it says)."""
    reference = request.query_params.get("reference", "").strip()[:40]
    status, error = None, None
    if reference:
        try:
            status = await publicity.lookup_objection(session, reference)
        except DomainError as exc:
            if exc.status_code != 404:
                raise
            error = exc.message
    return render(
        request,
        "web/applications/objection_lookup.html",
        {
            "reference": reference,
            "status": status,
            "errors": {"reference": error} if error else {},
            "values": {"reference": reference},
            "just_lodged": request.query_params.get("msg") == "objection" and status is not None,
            "objection_state": _objection_states(),
        },
        status_code=404 if error else 200,
    )


def _objection_states() -> dict[str, str]:
    return {
        ObjectionState.open.value: _("Being looked into"),
        ObjectionState.upheld.value: _("Upheld: the application is rejected"),
        ObjectionState.dismissed.value: _("Dismissed"),
    }


def _form_context(
    programme: Programme,
    org: Any,
    values: dict[str, Any],
    lines: list[dict[str, str]],
    indicators: list[dict[str, str]],
    errors: dict[str, str],
) -> dict[str, Any]:
    activities = values.get("activities") or []
    submit_allowed, submit_reason = application_service.window_state(programme, dt.datetime.now(dt.UTC))
    return {
        "submit_allowed": submit_allowed,
        "submit_reason": submit_reason,
        "programme": programme,
        "org": org,
        "values": values,
        "lines": lines
        or [{"category": "", "item": "", "unit_price": "", "quantity": "1", "funded_by": "grant"}],
        "indicators": indicators or [{"kind": "output", "name": "", "target": "", "unit": ""}],
        "activities": activities or [{"name": "", "starts_on": "", "ends_on": ""}],
        "errors": errors,
        "category_options": [(c.id, c.name) for c in programme.categories],
        "topic_options": [(t.id, t.title) for t in programme.topics],
        "cap": application_service.track_cap(programme, org),
        "track_label": application_service.track_label(org),
        **grant_labels(),
    }


def _application_payload(form: FormData) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    values = {
        k: v
        for k, v in form_values(form, skip=("csrf_token", "intent")).items()
        if not k.startswith(("line-", "ind-", "act-"))
    }
    lines = table_rows(
        form,
        "line",
        ("category", "item", "unit_price", "quantity", "funded_by"),
        200,
        filled_by=("item", "unit_price"),
    )
    indicators = table_rows(
        form, "ind", ("kind", "name", "target", "unit"), 50, filled_by=("name", "target", "unit")
    )
    activities = table_rows(form, "act", ("name", "starts_on", "ends_on"), 50)
    values["budget_lines"] = lines
    values["indicators"] = indicators
    values["activities"] = activities
    return values, lines, indicators


ROW_FIELDS = ("budget_lines", "indicators", "activities")


def _parse_rows(
    model: type[ApplicationIn], values: dict[str, Any]
) -> tuple[ApplicationIn | None, dict[str, str]]:
    """Like ``parse``, but an error in a table row stays on its row (``budget_lines.2``)."""
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for detail in validation_details([dict(e) for e in exc.errors()]):
            parts = detail.field.split(".")
            key = ".".join(parts[:2]) if parts[0] in ROW_FIELDS and len(parts) > 1 else parts[0]
            errors.setdefault(key, detail.message)
        return None, errors


def _row_keys(errors: dict[str, str]) -> dict[str, str]:
    """A domain error on ``budget_lines.2.quantity`` is shown on row 2 of the budget."""
    keyed: dict[str, str] = {}
    for field, message in errors.items():
        parts = field.split(".")
        keyed.setdefault(".".join(parts[:2]) if parts[0] in ROW_FIELDS and len(parts) > 1 else field, message)
    return keyed


def _form_action(programme_id: int, organisation_id: int) -> str:
    return "/applications/new?" + urlencode(
        {"programme_id": programme_id, "organisation_id": organisation_id}
    )


@router.get("/applications/new")
async def new_application(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    programme_id = request.query_params.get("programme_id", "")
    organisation_id = request.query_params.get("organisation_id", "")
    if not (programme_id.isdigit() and organisation_id.isdigit()):
        return RedirectResponse("/programmes", status_code=303)
    programme = await programmes.get_programme(session, principal, int(programme_id))
    org = await incubator.get_organisation(session, principal, int(organisation_id))
    values = {"organisation_id": org.id, "programme_id": programme.id, "target_community": org.community}
    return render(
        request,
        "web/applications/form.html",
        {
            **_form_context(programme, org, values, [], [], {}),
            "action": _form_action(programme.id, org.id),
            "draft_key": _form_action(programme.id, org.id),
        },
    )


async def _save_and_maybe_submit(
    request: Request,
    session: SessionDep,
    principal: Principal,
    form: FormData,
    application_id: int | None,
) -> Response:
    """Save the draft; with ``intent=submit`` check it first and submit it when nothing is left to fix."""
    values, lines, indicators = _application_payload(form)
    submitting = form.get("intent") in ("submit", "submit-anyway")
    model = ApplicationIn if application_id else ApplicationCreate
    data, errors = _parse_rows(model, values)
    saved: Application | None = None
    if data is not None:
        try:
            if application_id is None:
                assert isinstance(data, ApplicationCreate)
                saved = await application_service.create_application(session, principal, data)
            else:
                saved = await application_service.update_application(session, principal, application_id, data)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = _row_keys(domain_errors(exc))
    if saved is not None and not submitting:
        return RedirectResponse(f"/applications/{saved.id}?msg=saved", status_code=303)
    notices: list[str] = []
    warned = False
    if saved is not None:
        fresh = await application_service.get_application(session, principal, saved.id)
        check = await application_service.application_readiness(session, principal, fresh)
        notices = check.notices
        accepted = form.get("intent") == "submit-anyway"
        if check.ready and (check.clean or accepted):
            try:
                await application_service.submit_application(session, principal, saved.id)
                return RedirectResponse(f"/applications/{saved.id}?msg=submitted", status_code=303)
            except DomainError as exc:
                if exc.status_code not in (409, 422):
                    raise
                errors = domain_errors(exc)
        elif check.ready:
            warned = True
            errors = {
                **check.warnings,
                "__all__": _(
                    "The draft is saved. Some eligibility checks would fail (marked below): fix them, "
                    "or submit anyway and let the centre decide."
                ),
            }
        else:
            errors = {
                **check.warnings,
                **check.problems,
                "__all__": _("The draft is saved. Fill in or fix what is marked before submitting."),
            }
    if saved is not None:
        application_id = saved.id
    application: Application | None = (
        await application_service.get_application(session, principal, application_id)
        if application_id
        else None
    )
    programme_id = application.programme_id if application else int(values.get("programme_id") or 0)
    organisation_id = application.organisation_id if application else int(values.get("organisation_id") or 0)
    programme = await programmes.get_programme(session, principal, programme_id or 1)
    org = await incubator.get_organisation(session, principal, organisation_id or 1)
    context = _form_context(programme, org, values, lines, indicators, errors)
    if application is not None:
        context.update(await _attachment_context(session, principal, application))
    return render(
        request,
        "web/applications/form.html",
        {
            **context,
            "application": application,
            "notices": notices,
            "warned": warned,
            "action": f"/applications/{application.id}/edit"
            if application
            else _form_action(programme.id, org.id),
            "draft_key": f"/applications/{application.id}/edit"
            if application
            else _form_action(programme.id, org.id),
        },
        status_code=422,
    )


@router.post("/applications/new")
async def create_application(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    form = await read_form(request)
    return await _save_and_maybe_submit(request, session, principal, form, None)


async def _attachment_context(
    session: SessionDep, principal: Principal, application: Application
) -> dict[str, Any]:
    can_edit, edit_reason = application_service.can_edit_content(application)
    return {
        "attachments": await application_service.attachment_views(session, application),
        "can_attach": can_edit,
        "attach_reason": edit_reason,
    }


def _saved_form_values(
    application: Application,
) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    values = {
        name: getattr(application, name) for name in ApplicationIn.model_fields if hasattr(application, name)
    }
    values["activities"] = application.activities
    lines = [
        {
            "category": l.category.value,
            "item": l.item,
            "unit_price": str(l.unit_price),
            "quantity": str(l.quantity),
            "funded_by": l.funded_by.value,
        }
        for l in application.budget_lines  # noqa: E741
    ]
    indicators = [
        {"kind": i.kind.value, "name": i.name, "target": str(i.target), "unit": i.unit}
        for i in application.indicators
    ]
    return values, lines, indicators


@router.get("/applications/{application_id:int}/edit")
async def edit_application(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    application = await application_service.get_application(session, principal, application_id)
    org = await application_service.require_member(session, principal, application.organisation_id)
    programme = await programmes.get_programme(session, principal, application.programme_id)
    values, lines, indicators = _saved_form_values(application)
    check = await application_service.application_readiness(session, principal, application)
    just_saved = request.query_params.get("msg") == "saved"
    return render(
        request,
        "web/applications/form.html",
        {
            **_form_context(programme, org, values, lines, indicators, {}),
            **await _attachment_context(session, principal, application),
            "application": application,
            "hints": {**check.warnings, **check.problems},
            "notices": check.notices,
            "flash": flash(request),
            "action": f"/applications/{application.id}/edit",
            "draft_key": f"/applications/{application.id}/edit",
            "clear_keys": [f"/applications/{application.id}/edit", _form_action(programme.id, org.id)]
            if just_saved
            else [],
            "attach_error": request.query_params.get("attach_error"),
        },
    )


@router.post("/applications/{application_id:int}/edit")
async def update_application(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    return await _save_and_maybe_submit(request, session, principal, form, application_id)


# --- attachments --------------------------------------------------------------------------


@router.post("/applications/{application_id:int}/attachments")
async def upload_attachment(
    request: Request,
    application_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    form = await read_form(request)
    upload = form.get("file")
    label = str(form.get("label") or "")
    try:
        if not isinstance(upload, StarletteUploadFile) or not upload.filename:
            raise ValidationFailed.field("file", _("Choose a file to upload"))
        content = await upload.read(settings.upload_max_bytes + 1)
        await application_service.add_attachment(
            session,
            principal,
            application_id,
            store=FileStore(settings.files_dir),
            filename=upload.filename,
            content=content,
            label=label,
            max_bytes=settings.upload_max_bytes,
        )
    except DomainError as exc:
        if exc.status_code not in (409, 413, 422):
            raise
        message = exc.message if not exc.details else "；".join(d.message for d in exc.details)
        query = urlencode({"attach_error": message})
        return RedirectResponse(f"/applications/{application_id}/edit?{query}#attachments", status_code=303)
    return RedirectResponse(f"/applications/{application_id}/edit?msg=attached#attachments", status_code=303)


@router.post("/applications/{application_id:int}/attachments/{attachment_id:int}/remove")
async def remove_attachment(
    request: Request,
    application_id: IdPath,
    attachment_id: IdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    try:
        await application_service.remove_attachment(session, principal, application_id, attachment_id)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        query = urlencode({"attach_error": exc.message})
        return RedirectResponse(f"/applications/{application_id}/edit?{query}#attachments", status_code=303)
    return RedirectResponse(f"/applications/{application_id}/edit?msg=detached#attachments", status_code=303)


@router.get("/applications/{application_id:int}/attachments/{attachment_id:int}")
async def view_attachment(
    application_id: IdPath,
    attachment_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    """PDF and images open in the browser; Office files download. Only the sniffed kinds are
    ever stored (never HTML), and the site's security headers go on this answer too."""
    view, content = await application_service.read_attachment(
        session, principal, application_id, attachment_id, store=FileStore(settings.files_dir)
    )
    disposition = "inline" if view.inline else "attachment"
    extension = mimetypes.guess_extension(view.content_type) or ""
    ascii_name = f"attachment-{attachment_id}{extension}"
    return Response(
        content,
        media_type=view.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(view.original_name)}",
        },
    )


# --- the record ---------------------------------------------------------------------------


def _timeline(application: Application | ApplicationOut, hidden: bool) -> list[dict[str, Any]]:
    """Each step with who took it by name; for a blind reader the applicant's side is "the applicant"."""
    applicant_actions = {"create", "submit", "withdraw"}
    steps = []
    for event in application.events:
        actor = event.actor
        if hidden and event.action in applicant_actions:
            actor = _("The applicant")
        elif "@" in actor:
            actor = _("The applicant") if event.action in applicant_actions else _("Centre staff")
        elif actor == "system":
            actor = _("Seedbed (automatic)")
        steps.append({"at": event.at, "state": event.to_state, "reason": event.reason, "actor": actor})
    return steps


async def _detail_context(
    session: SessionDep,
    principal: Principal,
    application: Application | ApplicationOut,
    facts: application_queries.PageFacts | None = None,
) -> dict[str, Any]:
    """What an application's page (and its PDF) shows; ``application`` is the ORM record or,
    for the page, the ``ApplicationOut`` the API's detail reads as columns, with the
    ``facts`` read in the same statement."""
    programme, category_name, topic_title = await application_service.page_programme(
        session, principal, application, facts
    )
    hidden = await application_service.identity_hidden(session, principal, application)
    known = (
        None if facts is None else (facts.organisation_name, facts.organisation_centre_id, facts.is_member)
    )
    # A hidden applicant is never the reader's own organisation (``identity_hidden``).
    applicant, is_member = (
        (None, False)
        if hidden
        else await incubator.known_name_and_membership(session, principal, application.organisation_id, known)
    )
    actions = {
        a: application_service.can_application(application, a)
        for a in application_service.APPLICATION_ACTIONS
    }
    open_now, window_reason = application_service.window_state(programme, dt.datetime.now(dt.UTC))
    if actions["submit"][0] and not open_now:
        actions["submit"] = (False, window_reason)
    if is_member and actions["submit"][0] and applicant is not None:
        full = (
            application
            if isinstance(application, Application)
            else await application_service.get_application(session, principal, application.id)
        )
        check = await application_service.application_readiness(session, principal, full)
        if not check.ready:
            actions["submit"] = (False, _("Open the form: some fields still need to be filled or fixed"))
    return {
        "application": application,
        "programme": programme,
        "applicant": applicant,
        "identity_hidden": hidden,
        "programme_link": principal.sees_all_centres
        or principal.has(Role.staff, Role.admin, Role.finance, Role.applicant),
        "is_member": is_member,
        "actions": actions,
        "is_staff": principal.has(Role.staff) and not principal.read_only,
        "grant_total": application.requested_amount,
        "category_name": category_name,
        "topic_title": topic_title,
        "attachments": await application_service.attachment_views(
            session, application, None if facts is None else facts.attachments
        ),
        "timeline": _timeline(application, hidden),
        "errors": {},
        **grant_labels(),
    }


@router.get("/applications/{application_id:int}")
@reads_only
async def application_detail(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    detail, facts = await application_service.application_page(session, principal, application_id)
    application = ApplicationOut.model_validate(detail)
    context = await _detail_context(session, principal, application, facts)
    error = request.query_params.get("error")
    saved = request.query_params.get("msg") in ("saved", "submitted")
    keys = [
        f"/applications/{application.id}/edit",
        _form_action(application.programme_id, application.organisation_id),
    ]
    return render(
        request,
        "web/applications/application.html",
        {**context, "flash": flash(request), "action_error": error, "clear_keys": keys if saved else []},
    )


@router.get("/applications/{application_id:int}/proposal.pdf")
async def application_pdf(
    application_id: IdPath, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> Response:
    """The 申报书 as a PDF, as the reader may see it (blind readers without the applicant)."""
    application = await application_service.get_application(session, principal, application_id)
    context = await _detail_context(session, principal, application)
    centre = await identity.get_centre(session, application.centre_id)
    html = render_html(
        "reports/proposal.html",
        {
            **context,
            "title": application.title,
            "centre_name": centre.name if centre else "",
            "period_label": context["programme"].name,
            "generated_at": dt.datetime.now(dt.UTC),
        },
        locale=current_locale(),
    )
    pdf = await get_renderer(settings.report_workers).render(html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="proposal-{application.id}.pdf"'},
    )


@router.post("/applications/{application_id:int}/{action}")
async def application_action(
    request: Request, application_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    try:
        if action == "submit":
            application = await application_service.get_application(session, principal, application_id)
            check = await application_service.application_readiness(session, principal, application)
            if not check.ready:
                raise Conflict(_("Open the form: some fields still need to be filled or fixed"))
            await application_service.submit_application(session, principal, application_id)
            return RedirectResponse(f"/applications/{application_id}?msg=submitted", status_code=303)
        if action in ("withdraw", "return"):
            data, errors = parse(ReasonIn, {"reason": form.get("reason") or ""})
            if data is None:
                raise DomainError(errors.get("reason", _("This field is required")))
            if action == "withdraw":
                await application_service.withdraw_application(
                    session, principal, application_id, data.reason
                )
            else:
                await application_service.return_application(session, principal, application_id, data.reason)
        elif action == "confirm-eligibility":
            decisions = [
                CheckDecision(
                    code=key.removeprefix("check-"),
                    passed=form.get(key) == "pass",
                    reason=str(form.get(f"reason-{key.removeprefix('check-')}") or "")[:2000],
                )
                for key in form
                if key.startswith("check-")
            ]
            await application_service.confirm_eligibility(
                session, principal, application_id, ConfirmEligibility(decisions=decisions)
            )
        else:
            return Response(status_code=404)
    except DomainError as exc:
        if exc.status_code not in (400, 409, 422):
            raise
        message = exc.message if not exc.details else "；".join(d.message for d in exc.details)
        return RedirectResponse(
            f"/applications/{application_id}?{urlencode({'error': message})}", status_code=303
        )
    return RedirectResponse(f"/applications/{application_id}?msg=done", status_code=303)


@router.get("/objections")
async def objection_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.admin):
        raise Forbidden(_("Your role does not allow this"))
    page = await application_queries.list_objections(session, principal, PageParams(page=1, page_size=200))
    can_resolve = principal.has(Role.staff) and not principal.read_only
    return render(
        request,
        "web/applications/objections.html",
        {"objections": page.items, "flash": flash(request), "can_resolve": can_resolve},
    )


@router.post("/objections/{objection_id:int}/resolve")
async def objection_resolve(
    request: Request, objection_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    data, errors = parse(
        ResolveObjection, {"upheld": form.get("upheld") == "yes", "resolution": form.get("resolution") or ""}
    )
    if data is None:
        return RedirectResponse(
            f"/objections?{urlencode({'error': next(iter(errors.values()))})}", status_code=303
        )
    await publicity.resolve_objection(session, principal, objection_id, data)
    return RedirectResponse("/objections?msg=done", status_code=303)
