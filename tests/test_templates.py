"""Pages' templates are compiled once per language, their constant texts translated then
(``api.web.TranslatedAtCompile``), and print what calling ``_`` at render time printed."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from api.web import ENVIRONMENTS, environment
from core.i18n import SUPPORTED, gettext, use_locale


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_constant_text_is_translated_when_compiled(locale: str) -> None:
    env = ENVIRONMENTS[locale]
    source = '{{ _("Dashboard") }}|{{ _("Applications")|upper }}|{{ _("Dashboard") ~ "!" }}'
    compiled = env.compile(source, raw=True)
    assert "context.call" not in compiled
    with use_locale(locale):
        expected = f"{gettext('Dashboard')}|{gettext('Applications').upper()}|{gettext('Dashboard')}!"
        assert env.from_string(source).render() == expected
    assert ("工作台" in compiled) is (locale == "zh")


def test_the_request_language_chooses_the_environment() -> None:
    with use_locale("en"):
        assert environment() is ENVIRONMENTS["en"]
        assert environment().from_string('{{ _("Dashboard") }}').render() == "Dashboard"
    with use_locale("zh"):
        assert environment().from_string('{{ _("Dashboard") }}').render() == "工作台"


def test_a_text_is_escaped_and_formatted_as_the_call_was() -> None:
    env = ENVIRONMENTS["en"]
    with use_locale("en"):
        assert env.from_string('{{ _("a < b") }}').render() == "a &lt; b"
        formatted = env.from_string('{{ _("%(n)s of %(m)s") % {"n": 1, "m": "<2>"} }}').render()
        assert formatted == "1 of &lt;2&gt;"


def test_anything_but_one_literal_is_translated_at_render_time() -> None:
    env = ENVIRONMENTS["zh"]
    source = '{{ _(word) }}|{{ _("Dash" ~ "board") }}|{{ item._("x") }}'
    assert env.compile(source, raw=True).count("context.call") == 3

    class Item:
        def _(self, text: str) -> str:
            return f"<{text}>"

    with use_locale("zh"):
        assert env.from_string(source).render(word="Dashboard", item=Item()) == "工作台|工作台|&lt;x&gt;"


@pytest.mark.parametrize(
    "source",
    [
        "{% for _ in [1, 2] %}{% endfor %}",
        "{% set _ = 'x' %}",
        "{% macro m(_) %}{% endmacro %}",
        "{{ _ }}",
        "{{ [1]|map(_) }}",
    ],
)
def test_a_template_may_not_bind_or_pass_the_translation_function(source: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="translation function"):
        ENVIRONMENTS["zh"].from_string(source)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_page_template_compiles(locale: str) -> None:
    env = ENVIRONMENTS[locale]
    names = [name for name in env.list_templates() if name.startswith("web/")]
    assert len(names) > 50
    for name in names:
        env.get_template(name)
