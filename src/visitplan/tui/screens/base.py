"""What every main screen shares: typed access to the app, refresh on resume and
on a timer, and database work in worker threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual import work
from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker

from visitplan.errors import InputError

if TYPE_CHECKING:
    from visitplan.tui.shell import Shell

T = TypeVar("T")


def deliver(
    screen: Screen[Any], callback: Callable[..., object], *args: Any, **kwargs: Any
) -> None:
    """From a worker thread: run ``callback`` on the UI thread, if ``screen`` is still
    there. A screen closed (or its area left) while its worker read must not be
    painted: its widgets are gone."""

    def if_still_there() -> None:
        if screen.is_attached:
            callback(*args, **kwargs)

    app = screen.app
    if app.is_running:
        app.call_from_thread(if_still_there)


def deliver_latest(screen: Screen[Any], callback: Callable[..., object], *args: Any) -> None:
    """``deliver``, from a read that a newer one of its group (an exclusive worker) may
    have replaced meanwhile: then nothing. A read begun before a change can end after
    the re-read the change asked for, and must not paint over it."""
    worker = get_current_worker()

    def unless_replaced() -> None:
        if not worker.is_cancelled:
            callback(*args)

    deliver(screen, unless_replaced)


def tell(screen: Screen[Any], message: str, **kwargs: Any) -> None:
    """From a worker thread: a notification, even if the screen has closed meanwhile
    (a change that was made is said, whatever is on screen)."""
    app = screen.app
    if app.is_running:
        app.call_from_thread(app.notify, message, **kwargs)


def clinic_app(screen: Screen[Any]) -> Shell:
    from visitplan.tui.shell import Shell

    app = screen.app
    assert isinstance(app, Shell)
    return app


class ClinicScreen(Screen[None]):
    """A main screen. ``load`` reads in a worker thread; ``show`` paints on the UI thread."""

    def __init__(self) -> None:
        super().__init__()
        self._seen_version: int | None = None
        self._resumed = False

    @property
    def vp(self) -> Shell:
        return clinic_app(self)

    def on_mount(self) -> None:
        # Textual calls every class's on_mount along the MRO: subclasses must not
        # call this one again.
        self.set_interval(self.vp.refresh_seconds, self._tick)

    def on_screen_resume(self) -> None:
        # Textual resumes a mode's screen twice when the mode is first switched to
        # (as the mode starts, then as it becomes current): one read is enough.
        if not self._resumed:
            self._resumed = True
            self.reload()

    def on_screen_suspend(self) -> None:
        self._resumed = False

    def _tick(self) -> None:
        if self.is_current:  # screens out of sight catch up when they are shown again
            self._poll()

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self) -> None:
        """Re-read only when someone (here or at another workstation) changed something."""
        version = self.vp.data.version()
        seen, self._seen_version = self._seen_version, version
        # The first poll re-reads too: a change made between this screen's first
        # read and that poll would otherwise never be seen. (Unchanged, the read
        # is the one remembered for this data version: no query.)
        if version != seen:
            deliver(self, self.reload)

    def reload(self) -> None:
        """Read again and repaint; the default screen has nothing to read."""

    def change(
        self, job: Callable[[], T], done: str, then: Callable[[T], None] | None = None
    ) -> None:
        """Run one change against the records off the UI thread, then say how it went."""
        self._change(job, done, then)

    @work(thread=True, group="change")
    def _change(self, job: Callable[[], T], done: str, then: Callable[[T], None] | None) -> None:
        try:
            result = job()
        except InputError as exc:
            tell(self, exc.message, severity="error", timeout=8)
            return
        tell(self, done)
        if then is not None:
            deliver(self, then, result)
        deliver(self, self.reload)


R = TypeVar("R")


class Modal(ModalScreen[R], Generic[R]):
    """A form or a question over the current screen; escape leaves it unchanged."""

    BINDINGS = [("escape", "dismiss_none", "Close")]  # noqa: RUF012
    # Answered or closed by the person, never left with an F-key (see the app).
    HOLDS_INPUT = True

    @property
    def vp(self) -> Shell:
        return clinic_app(self)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
