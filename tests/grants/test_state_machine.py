"""Every action in every state: allowed exactly where the rules say, refused with the reason elsewhere."""

from __future__ import annotations

import pytest

from core.i18n import use_locale
from grants.applications import service as applications
from grants.applications.models import Application, ApplicationState
from grants.programmes import service as programmes
from grants.programmes.models import Programme, ProgrammeState

PROGRAMME_ALLOWED = {
    "open": {ProgrammeState.draft},
    "start-review": {ProgrammeState.open},
    "decide": {ProgrammeState.reviewing},
    "publicise": {ProgrammeState.decided},
    "close": {ProgrammeState.running},
}
APPLICATION_ALLOWED = {
    "submit": {ApplicationState.draft, ApplicationState.returned},
    "withdraw": {
        ApplicationState.draft,
        ApplicationState.submitted,
        ApplicationState.eligible,
        ApplicationState.ineligible,
        ApplicationState.returned,
    },
    "return": {ApplicationState.submitted, ApplicationState.eligible, ApplicationState.ineligible},
    "confirm-eligibility": {ApplicationState.submitted},
}


@pytest.mark.parametrize("state", list(ProgrammeState))
@pytest.mark.parametrize("action", list(PROGRAMME_ALLOWED))
def test_programme_actions(state: ProgrammeState, action: str) -> None:
    programme = Programme(state=state)
    allowed, reason = programmes.can_programme(programme, action)
    assert allowed == (state in PROGRAMME_ALLOWED[action])
    if not allowed:
        with use_locale("zh"):
            _ok, reason = programmes.can_programme(programme, action)
        assert reason.startswith("项目计划当前为“")


@pytest.mark.parametrize("state", list(ApplicationState))
@pytest.mark.parametrize("action", list(APPLICATION_ALLOWED))
def test_application_actions(state: ApplicationState, action: str) -> None:
    application = Application(state=state)
    allowed, reason = applications.can_application(application, action)
    assert allowed == (state in APPLICATION_ALLOWED[action])
    assert (reason == "") == allowed


def test_terminal_states_allow_nothing() -> None:
    for state in (ApplicationState.withdrawn, ApplicationState.awarded, ApplicationState.rejected):
        application = Application(state=state)
        assert not any(applications.can_application(application, a)[0] for a in APPLICATION_ALLOWED)
