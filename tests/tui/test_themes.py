"""Form labels are readable in every built-in theme: a field's title, focused or
not, stands out from what is behind it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.app import App

from tests.support.tui import TuiClinic, settle

pytestmark = pytest.mark.anyio

# WCAG's minimum for text (AA, normal size).
READABLE = 4.5


def luminance(color: Color) -> float:
    red, green, blue = color.get_truecolor()

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one: Color, other: Color) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def style_at(app: App[Any], x: int, y: int) -> Style:
    """The style of the cell at (x, y), as the terminal receives it."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system="truecolor"
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    lines = list(Segment.split_lines(console._record_buffer))
    column = 0
    for segment in lines[y]:
        column += segment.cell_length
        if column > x:
            assert segment.style is not None
            return segment.style
    raise AssertionError(f"nothing painted at {x},{y}")


async def test_field_titles_are_readable_in_every_theme(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "v")  # the move form: Date focused, Time not
        await settle(pilot)
        themes = sorted(app.available_themes)
        assert len(themes) > 10
        poor = []
        for name in themes:
            app.theme = name
            await settle(pilot)
            for field in ("#date", "#time"):
                region = app.screen.query_one(field).region
                # The title sits on the top border, after its corner and a space.
                style = style_at(app, region.x + 3, region.y)
                assert style.color is not None, (name, field)
                assert style.bgcolor is not None, (name, field)
                assert not style.dim, (name, field)
                if style.color.is_default or style.bgcolor.is_default:
                    # The ANSI themes leave colours to the terminal (its own text on its
                    # own background, or one of its standard colours).
                    assert not style.color.triplet or not style.bgcolor.triplet
                    continue
                ratio = contrast(style.color, style.bgcolor)
                if ratio < READABLE:
                    poor.append(f"{name} {field}: {ratio:.1f}")
        assert poor == [], "\n".join(poor)
